// Consentry for bundlers. Importing this module touches nothing: no window, no document, no
// storage, no request. init(config) loads the .wasm (wasm-bindgen's glue is ./consentry.js) and
// starts the module, which renders the banner and owns every rule.
import initWasm, { start } from './consentry.js';

// English is inside the .wasm; the other languages are ES modules loaded by import() only for a
// visitor who needs one, so every bundler makes each its own chunk (none is inlined).
const LANGS = {/*{{langImports}}*/};
let started;

/// The first of the config's `language`, <html lang>, navigator.languages that has a table.
function language(config) {
  let wanted;
  try { wanted = (typeof config === 'string' ? JSON.parse(config) : config).language; } catch {}
  for (const c of [wanted, document.documentElement.getAttribute('lang'), ...(navigator.languages || [])]) {
    const p = String(c).split(/[-_]/)[0].toLowerCase();
    if (p === 'en' || Object.hasOwn(LANGS, p)) return p;
  }
  return 'en';
}

/// The language table for `code` (undefined for English, or when it could not be loaded: the
/// module then shows English and warns).
async function table(code, options) {
  if (code === 'en') return undefined;
  if (options.texts && options.texts[code]) return options.texts[code];
  try {
    if (options.langUrl) return await (await fetch(new URL(code + '.json', new URL(options.langUrl, location.href)))).text();
    return (await LANGS[code]()).default;
  } catch (e) {
    console.error('Consentry: could not load the ' + code + ' texts (' + e.message + '); is lang/' + code + '.js served as JavaScript?');
  }
}

/// Loads the .wasm, with a clear error when a dev server answers with a page instead.
async function load(wasm) {
  const src = wasm || new URL('./consentry_bg.wasm', import.meta.url);
  const r = typeof src === 'string' || src instanceof URL ? await fetch(src) : src;
  if (r instanceof Response) {
    if (!r.ok) throw new Error('Consentry: could not load ' + r.url + ' (HTTP ' + r.status + ')');
    if (/html/.test(r.headers.get('Content-Type'))) {
      throw new Error('Consentry: ' + r.url + ' came back as an HTML page, not WebAssembly: let your bundler serve consentry_bg.wasm (see the README), or pass init(config, { wasm: url })');
    }
  }
  await initWasm({ module_or_path: r });
}

/**
 * Starts Consentry with a config object (see README) and resolves to its API, the same object the
 * script-tag build puts on window.Consentry. Rejects, doing nothing else, when the config is invalid.
 */
export function init(config, options = {}) {
  if (typeof window === 'undefined') return Promise.reject(new Error('Consentry: init() needs a browser'));
  if (window.Consentry) return Promise.resolve(window.Consentry);
  started ||= Promise.all([table(language(config), options), load(options.wasm)])
    .then(([t]) => (window.Consentry = start(config, t)))
    .catch((e) => { started = undefined; throw e instanceof Error ? e : new Error(String(e)); });
  return started;
}
