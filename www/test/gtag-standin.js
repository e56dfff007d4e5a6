// Test aid: a stand-in for Google's gtag.js. Like the real one it works through `dataLayer` in
// order, then every later push; it records, for each `config` command (a tag about to run),
// which consent default it found before it, so a test can see whether a tag read consent before
// any default existed.
(function () {
  var w = window;
  var seen = (w.__tagSaw = []);
  var consent = null;
  function take(a) {
    if (!a || typeof a !== 'object' || !('length' in a)) return;
    if (a[0] === 'consent' && a[1] === 'default') consent = a[2].analytics_storage;
    if (a[0] === 'consent' && a[1] === 'update') consent = a[2].analytics_storage;
    if (a[0] === 'config') seen.push({ tag: a[1], consent: consent });
  }
  if (!Array.isArray(w.dataLayer)) w.dataLayer = [];
  w.dataLayer.forEach(take);
  var push = w.dataLayer.push;
  w.dataLayer.push = function () {
    for (var i = 0; i < arguments.length; i++) take(arguments[i]);
    return push.apply(this, arguments);
  };
  w.__gtagLoaded = true;
})();
