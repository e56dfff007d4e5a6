// Consentry script-tag loader (bundled with wasm-bindgen's glue into pkg/cdn/consentry.js).
// Reads the config from data-config (a URL) or an inline <script type="application/json"
// id="consentry-config">, loads consentry_bg.wasm from next to this file pinned by its SHA-384
// (so the tag's integrity attribute covers the module too), and starts the module, which renders
// the banner and owns every rule. The API is window.Consentry; a second tag does nothing.
// English is inside the .wasm; another language's table is lang/<code>.json next to it, fetched
// in parallel with the .wasm, only for a visitor who needs it (the module checks it again).
import init, { start } from './consentry.js';

const me = document.currentScript;
if (!window.Consentry && !window.__consentryLoading) {
  window.__consentryLoading = 1;
  const base = me && me.src ? me.src : location.href;
  const LANGS = '{{langs}}'.split(' ');
  const PIN = '{{wasmIntegrity}}';
  const src = me && me.getAttribute('data-config');
  const inline = !src && document.getElementById('consentry-config');
  const asked = [document.documentElement.getAttribute('lang'), ...navigator.languages];
  // Which table to fetch: the first of the config's language, <html lang>, navigator.languages
  // that has one. No config text yet (it comes from a URL): no parse.
  const language = (config) => {
    let wanted = asked;
    if (config) try { wanted = [JSON.parse(config).language, ...asked]; } catch {}
    for (const c of wanted) {
      const primary = String(c).split(/[-_]/)[0].toLowerCase();
      if (LANGS.includes(primary)) return primary;
    }
    return 'en';
  };
  const table = (code) => code == 'en' ? '' : fetch(new URL('lang/' + code + '.json', base))
    .then((r) => r.ok ? r.text() : '', () => '');
  // Started before a config from a URL is read: a config naming another language costs one more
  // small request, never a later banner.
  const guess = language(inline ? inline.textContent : ''), early = table(guess);
  const config = src
    ? fetch(new URL(src, location.href), { credentials: 'same-origin' }).then((r) => {
        if (!r.ok) throw new Error('Consentry config: could not load ' + src + ' (HTTP ' + r.status + ')');
        return r.text();
      })
    : inline ? Promise.resolve(inline.textContent)
    : Promise.reject(new Error('Consentry config: missing. Add data-config="/consent.json" to the script tag, or a <script type="application/json" id="consentry-config">.'));
  Promise.all([
    config,
    config.then((c) => { const code = language(c); return code == guess ? early : table(code); }),
    init({ module_or_path: fetch(new URL('consentry_bg.wasm', base), { integrity: PIN }) }),
  ])
    .then(([c, t]) => {
      window.Consentry = start(c, t);
      document.dispatchEvent(new CustomEvent('consentry:ready'));
    })
    .catch(async (e) => {
      // A wrong config names the field and the problem's number; its words are fetched only now.
      if (e && typeof e.code == 'number') try { e.message = e.message.split(': problem')[0] + ': ' + (await (await fetch(new URL('errors.json', base))).json())[e.code]; } catch {}
      console.error((e && e.message) || e);
    });
}
