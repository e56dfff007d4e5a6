/* Consentry: Google Consent Mode v2 defaults, set before any Google tag reads them.
   Load it synchronously (no async, no defer) in <head>, before gtag.js or GTM:
     <script src="/consentry-defaults.js"></script>
   Every consent type starts denied; tags wait up to 500 ms for Consentry's update, which follows
   the visitor's stored or new choice as soon as the module has loaded. An external file, so it
   works under a Content-Security-Policy without 'unsafe-inline'. */
(function (w) {
  if (!Array.isArray(w.dataLayer)) w.dataLayer = [];
  if (typeof w.gtag != 'function') w.gtag = function () { w.dataLayer.push(arguments); };
  w.gtag('consent', 'default', {
    ad_storage: 'denied',
    ad_user_data: 'denied',
    ad_personalization: 'denied',
    analytics_storage: 'denied',
    wait_for_update: 500,
  });
  w.consentryDefaults = 1; // Consentry then sends only the updates
})(window);
