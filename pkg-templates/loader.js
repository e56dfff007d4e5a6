// Consentry script-tag loader. Reads the config from data-config (a URL) or from an inline
// <script type="application/json" id="consentry-config">, loads consentry_bg.wasm from next to
// this file, and exposes window.Consentry. A second tag does nothing.
(function () {
  var me = document.currentScript;
  if (window.Consentry || window.__consentryLoading) return;
  window.__consentryLoading = 1;
  var base = me && me.src ? me.src : location.href;
  var wasmUrl = new URL('consentry_bg.wasm', base);
  var API = ['showBanner', 'showPreferences', 'acceptAll', 'rejectAll', 'setConsent', 'getConsent', 'on',
    'evidence', 'exportEvidence', 'verifyEvidence', 'capture'];
  function configText() {
    var src = me && me.getAttribute('data-config');
    if (src) {
      return fetch(new URL(src, location.href), { credentials: 'same-origin' }).then(function (r) {
        if (!r.ok) throw new Error('Consentry config: could not load ' + src + ' (HTTP ' + r.status + ')');
        return r.text();
      });
    }
    var inline = document.getElementById('consentry-config');
    if (inline) return Promise.resolve(inline.textContent);
    return Promise.reject(new Error('Consentry config: missing. Add data-config="/consent.json" to the script tag, or a <script type="application/json" id="consentry-config">.'));
  }
  Promise.all([configText(), wasm_bindgen({ module_or_path: wasmUrl })])
    .then(function (r) {
      wasm_bindgen.init(r[0]);
      var api = {};
      API.forEach(function (n) { api[n] = wasm_bindgen[n]; });
      window.Consentry = Object.freeze(api);
      document.dispatchEvent(new CustomEvent('consentry:ready'));
    })
    .catch(function (e) { console.error(e && e.message ? e.message : e); });
})();
