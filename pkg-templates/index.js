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
/// module then shows English).
async function table(code, options) {
  if (code === 'en') return undefined;
  if (options.texts && options.texts[code]) return options.texts[code];
  try {
    if (options.langUrl) return await checked(await fetch(new URL(code + '.json', new URL(options.langUrl, location.href))), 'JSON').text();
    return (await LANGS[code]()).default;
  } catch (e) {
    console.error('Consentry: the ' + code + ' texts could not be loaded, so the banner is in English: ' + e.message +
      (options.langUrl ? '' : ' (the chunk your bundler made of lang/' + code + '.js must be served as JavaScript)'));
  }
}

const isPage = (r) => /html/.test(r.headers.get('Content-Type'));

/// `r` if it is a file; a clear error when it failed or a server answered with a page instead (a
/// dev server's or host's fallback for a file it does not have).
function checked(r, what) {
  if (!r.ok) throw new Error('could not load ' + r.url + ' (HTTP ' + r.status + (r.status == 403 ? '; Vite\'s dev server refuses this for a symlinked package: npm install --install-links' : '') + ')');
  if (isPage(r)) throw new Error(r.url + ' came back as an HTML page, not ' + what);
  return r;
}

/// Loads the .wasm from `wasm` (see InitOptions) or from next to this module.
async function load(wasm) {
  let r = wasm || new URL('./consentry_bg.wasm', import.meta.url);
  if (typeof r === 'string' || r instanceof URL) r = await fetch(r);
  // Vite 6's dev server pre-bundles this module into node_modules/.vite/deps/, without the .wasm
  // (vitejs/vite#8427), and answers for it with its page; the file is still in the package.
  if (!wasm && isPage(r) && r.url.includes('/.vite/deps/')) {
    const moved = await fetch(r.url.replace('/.vite/deps/', '/consentry/'));
    if (moved.ok && !isPage(moved)) r = moved;
  }
  if (r instanceof Response) {
    try {
      checked(r, 'WebAssembly');
    } catch (e) {
      throw new Error('Consentry: ' + e.message + ': let your bundler serve consentry_bg.wasm (see the README), or pass init(config, { wasm: url })');
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
    .catch(async (e) => {
      started = undefined;
      // A wrong config names the field and the problem's number; its words are loaded only now.
      if (typeof e.code == 'number') try { e.message = e.message.split(': problem')[0] + ': ' + (await import('./errors.js')).default[e.code]; } catch {}
      throw e instanceof Error ? e : new Error(String(e));
    });
  return started;
}
