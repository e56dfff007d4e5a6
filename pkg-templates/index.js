// Consentry for bundlers. Importing this module touches nothing: no window, no document, no
// storage, no request. Everything starts when you call init(config).
import glueInit, * as glue from './consentry_glue.js';

const API = ['showBanner', 'showPreferences', 'acceptAll', 'rejectAll', 'setConsent', 'getConsent', 'on',
  'evidence', 'exportEvidence', 'verifyEvidence', 'capture'];
let started;

/**
 * Starts Consentry with a config object (see README) and resolves to its API, the same object the
 * script-tag build puts on window.Consentry. Rejects, doing nothing else, when the config is invalid.
 * options.wasm overrides where consentry_bg.wasm is loaded from (a URL, Response or bytes).
 */
export function init(config, options = {}) {
  if (typeof window === 'undefined') return Promise.reject(new Error('Consentry: init() needs a browser'));
  if (window.Consentry) return Promise.resolve(window.Consentry);
  if (!started) {
    started = glueInit({ module_or_path: options.wasm || new URL('consentry_bg.wasm', import.meta.url) })
      .then(() => {
        glue.init(typeof config === 'string' ? config : JSON.stringify(config));
        const api = {};
        for (const name of API) api[name] = glue[name];
        return (window.Consentry = Object.freeze(api));
      })
      .catch((e) => {
        started = undefined;
        throw e instanceof Error ? e : new Error(String(e));
      });
  }
  return started;
}
