// Consentry for bundlers. Importing this module touches nothing: no window, no document, no
// storage, no request. Everything starts when you call init(config).
import { instantiate, shell, explain } from './shell.js';
// English is inside the .wasm; the other languages' texts are these files, fetched only for a
// visitor who needs one. Static URLs, so that Vite and webpack emit the files with the .wasm.
const FILES = {/*{{langFiles}}*/};
let started;

/// The first of the config's `language`, <html lang>, navigator.languages that has texts.
function language(config) {
  let wanted;
  try {
    wanted = (typeof config === 'string' ? JSON.parse(config) : config).language;
  } catch {}
  const candidates = [wanted, document.documentElement.getAttribute('lang'), ...(navigator.languages || [])];
  for (const c of candidates) {
    const p = String(c).split(/[-_]/)[0].toLowerCase();
    if (p === 'en' || Object.prototype.hasOwnProperty.call(FILES, p)) return p;
  }
  return 'en';
}

/// The text of the language table for `code`: from options.texts, else fetched; '' when there is
/// none (the module then shows English and warns).
async function table(code, options) {
  if (code === 'en') return '';
  const given = options.texts && options.texts[code];
  if (given) return typeof given === 'string' ? given : JSON.stringify({ lang: code, ...given });
  try {
    const r = await fetch(options.langUrl ? new URL(code + '.json', new URL(options.langUrl, location.href)) : FILES[code]);
    return r.ok ? await r.text() : '';
  } catch {
    return '';
  }
}

/**
 * Starts Consentry with a config object (see README) and resolves to its API, the same object the
 * script-tag build puts on window.Consentry. Rejects, doing nothing else, when the config is invalid.
 * options.wasm overrides where consentry_bg.wasm is loaded from (a URL, Response or bytes);
 * options.langUrl where the language files are (a folder URL; default: lang/ next to this module);
 * options.texts gives language tables instead ({ de: <lang/de.json> }), so nothing is fetched.
 */
export function init(config, options = {}) {
  if (typeof window === 'undefined') return Promise.reject(new Error('Consentry: init() needs a browser'));
  if (window.Consentry) return Promise.resolve(window.Consentry);
  if (!started) {
    const code = language(config);
    started = Promise.all([
      table(code, options),
      instantiate(options.wasm || new URL('consentry_bg.wasm', import.meta.url)),
    ])
      .then(([texts, wasm]) => {
        const text = typeof config === 'string' ? config : JSON.stringify(config);
        return (window.Consentry = shell(wasm, text, texts));
      })
      .catch((e) => explain(e, new URL('./errors.json', import.meta.url)).then((e) => {
        started = undefined;
        throw e instanceof Error ? e : new Error(String(e));
      }));
  }
  return started;
}
