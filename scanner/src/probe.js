// consentry-scan's probe: runs in every frame before the page's own scripts (CDP
// Page.addScriptToEvaluateOnNewDocument) and reports, through the CDP binding named by
// __BINDING__, which script wrote a cookie, a storage key or opened an IndexedDB database.
// It only observes: every original behaviour is kept, and a failure here never reaches the page.
(function () {
  'use strict';
  var send = self['__BINDING__'];
  if (typeof send !== 'function') return;
  var SELF = 'consentry-scan-probe';

  // The first frame of the stack that is not this probe: the script that made the call.
  function caller() {
    var limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    var stack = String(new Error().stack || '');
    Error.stackTraceLimit = limit;
    var lines = stack.split('\n');
    for (var i = 1; i < lines.length; i++) {
      if (lines[i].indexOf(SELF) !== -1) continue;
      var m = /((?:https?|file):\/\/[^\s()]+?):(\d+):(\d+)\)?\s*$/.exec(lines[i]);
      if (m) return { u: m[1], l: Number(m[2]) };
    }
    return { u: null, l: null };
  }

  function report(kind, name) {
    try {
      var c = caller();
      send(JSON.stringify({ k: kind, n: String(name), o: location.origin, u: c.u, l: c.l }));
    } catch (e) { /* never disturb the page */ }
  }

  try {
    var desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    if (desc && desc.set && desc.configurable) {
      Object.defineProperty(Document.prototype, 'cookie', {
        configurable: true,
        enumerable: desc.enumerable,
        get: function () { return desc.get.call(this); },
        set: function (v) {
          var text = String(v);
          var eq = text.indexOf('=');
          var semi = text.indexOf(';');
          var end = eq === -1 || (semi !== -1 && semi < eq) ? (semi === -1 ? text.length : semi) : eq;
          report('cookie', text.slice(0, end).trim());
          return desc.set.call(this, v);
        }
      });
    }
  } catch (e) {}

  try {
    var setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      var area = 'storage';
      try { area = this === self.sessionStorage ? 'session' : 'local'; } catch (e) {}
      report(area, key);
      return setItem.apply(this, arguments);
    };
  } catch (e) {}

  try {
    var open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name) {
      report('idb', name);
      return open.apply(this, arguments);
    };
  } catch (e) {}

  try {
    if (self.CookieStore && CookieStore.prototype.set) {
      var csSet = CookieStore.prototype.set;
      CookieStore.prototype.set = function (a) {
        report('cookie', a && typeof a === 'object' ? a.name : a);
        return csSet.apply(this, arguments);
      };
    }
  } catch (e) {}
})();
//# sourceURL=consentry-scan-probe
