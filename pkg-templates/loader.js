// Consentry script-tag loader. Reads the config from data-config (a URL) or from an inline
// <script type="application/json" id="consentry-config">, loads consentry_bg.wasm from next to
// this file, starts the shell (src/web/shell.js, bundled before this) and exposes its API as
// window.Consentry. A second tag does nothing.
// English is inside the .wasm; another language's texts are lang/<code>.json next to it, fetched
// in parallel with the .wasm (never for an English visitor). The language is the first of the
// config's `language`, <html lang>, navigator.languages that has texts; the module checks it
// again and falls back to English, with a warning, when the file is missing or invalid.
(function () {
  var me = document.currentScript;
  if (window.Consentry || window.__consentryLoading) return;
  window.__consentryLoading = 1;
  var base = me && me.src ? me.src : location.href;
  var wasmUrl = new URL('consentry_bg.wasm', base);
  var LANGS = '{{langs}}'.split(' ');
  // SHA-384 of the .wasm, written by the build: the browser refuses any other bytes, so the
  // script tag's own integrity attribute covers the module too.
  var PIN = '{{wasmIntegrity}}';
  var src = me && me.getAttribute('data-config');
  var inline = !src && document.getElementById('consentry-config');
  var asked = [document.documentElement.getAttribute('lang')].concat(navigator.languages);
  function language(config) {
    // No config text yet (it comes from a URL): no parse, since a thrown SyntaxError costs ms.
    var c = asked;
    if (config) try { c = [JSON.parse(config).language].concat(asked); } catch (e) {}
    for (var i = 0; i < c.length; i++) {
      var p = String(c[i]).split(/[-_]/)[0].toLowerCase();
      if (LANGS.indexOf(p) >= 0) return p;
    }
    return 'en';
  }
  function texts(code) {
    return code == 'en' ? '' : fetch(new URL('lang/' + code + '.json', base))
      .then(function (r) { return r.ok ? r.text() : ''; }, function () { return ''; });
  }
  // Started before the config is read when it comes from a URL: a config that names another
  // language then costs one more small request, never a later banner.
  var guess = language(inline ? inline.textContent : ''), early = texts(guess);
  function configText() {
    if (src) {
      return fetch(new URL(src, location.href), { credentials: 'same-origin' }).then(function (r) {
        if (!r.ok) throw new Error('Consentry config: could not load ' + src + ' (HTTP ' + r.status + ')');
        return r.text();
      });
    }
    if (inline) return Promise.resolve(inline.textContent);
    return Promise.reject(new Error('Consentry config: missing. Add data-config="/consent.json" to the script tag, or a <script type="application/json" id="consentry-config">.'));
  }
  var config = configText();
  Promise.all([config, config.then(function (c) {
    var code = language(c);
    return code == guess ? early : texts(code);
  }), instantiate(fetch(wasmUrl, { integrity: PIN }))])
    .then(function (r) {
      window.Consentry = shell(r[2], r[0], r[1]);
      document.dispatchEvent(new CustomEvent('consentry:ready'));
    })
    .catch(function (e) { return explain(e, new URL('errors.json', base)); })
    .then(function (e) { if (e) console.error(e.message || e); });
})();
