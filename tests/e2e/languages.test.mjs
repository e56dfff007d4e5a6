// The banner's languages, end to end: English is inside the .wasm; the other languages' texts are
// lang/<code>.json next to it (script tag) or an ES module chunk (npm), loaded only for a visitor
// who needs one and in parallel with the .wasm. A German page gets the de file, a French browser the fr file, a
// config's `language` wins over both, a missing or broken file gives English with a console
// warning (never no banner), an English visitor makes no language request, the receipt's texts
// hash is the hash of exactly the texts shown, and the npm build finds its files next to itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, banner, ROOT } from './harness.mjs';

const T = { timeout: 120_000 };
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const at = (path) => new URL(path, server.url).href;
const table = (code) => JSON.parse(readFileSync(join(ROOT, 'src/core/lang', code + '.json'), 'utf8'));

/// The receipt's `texts` for the test pages' purposes (necessary, then the config's), computed
/// here from the language table: the SHA-256 of the wording document (evidence format 2, see
/// `Texts::document`): the 22 banner texts by name and each purpose's id, title, description and
/// services, as RFC 8785 (JCS) writes them (keys sorted).
const jcs = (v) => (Array.isArray(v) ? '[' + v.map(jcs).join(',') + ']'
  : v && typeof v === 'object' ? '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}'
  : JSON.stringify(v));
function textsHash(code, purposes = ['necessary', 'analytics', 'marketing', 'functional']) {
  const t = table(code);
  const names = Object.keys(t).filter((k) => k !== 'lang' && !k.startsWith('purpose.'));
  assert.equal(names.length, 22);
  const doc = {
    lang: code,
    purposes: purposes.map((p) => ({ description: t[`purpose.${p}.description`], id: p, services: [], title: t[`purpose.${p}.title`] })),
    texts: Object.fromEntries(names.map((k) => [k, t[k]])),
  };
  return createHash('sha256').update(jcs(doc)).digest('hex');
}

/// Opens `path` with the browser options, recording every request for a language file; `routes`
/// are [pattern, handler] pairs for page.route. Resolves once the banner is shown.
async function visit(path, opts = {}, routes = []) {
  const b = await launch(opts);
  const langRequests = [];
  b.page.on('request', (rq) => {
    const p = new URL(rq.url()).pathname;
    if (p.includes('/lang/')) langRequests.push(p);
  });
  for (const [pattern, handler] of routes) await b.page.route(pattern, handler);
  await b.page.goto(at(path));
  try {
    await banner(b.page).locator('button[data-a=reject]').waitFor({ timeout: 15_000 });
  } catch {
    await b.close();
    throw new Error(`${path}: no banner; console: ${JSON.stringify(b.console)}; errors: ${JSON.stringify(b.pageErrors)}`);
  }
  return { ...b, langRequests };
}

/// Rejects through the banner and returns the receipt, with the banner's text for Reject.
async function rejectAndReceipt(b) {
  const reject = banner(b.page).locator('button[data-a=reject]');
  const label = (await reject.textContent()).trim();
  const hostLang = await b.page.locator('#consentry').getAttribute('lang');
  await reject.click();
  const receipts = await b.page.evaluate(() => window.Consentry.evidence());
  assert.equal(receipts.length, 1);
  return { label, hostLang, receipt: receipts[0] };
}

const warnings = (b) => b.console.filter((m) => m.type === 'warning' && m.text.startsWith('Consentry:')).map((m) => m.text);

test('a German page loads lang/de.json and shows German; the receipt hashes the German texts', T, async () => {
  const b = await visit('/test/lang-de.html', { locale: 'en-US' });
  try {
    assert.deepEqual(b.langRequests, ['/pkg/cdn/lang/de.json']);
    const { label, hostLang, receipt } = await rejectAndReceipt(b);
    assert.equal(label, table('de').rejectAll);
    assert.equal(hostLang, 'de');
    assert.equal(receipt.lang, 'de');
    assert.equal(receipt.texts, textsHash('de'));
    assert.notEqual(receipt.texts, textsHash('en'));
    assert.deepEqual(warnings(b), []);
    assert.deepEqual(b.pageErrors, []);
  } finally {
    await b.close();
  }
});

test('no page language and a French browser: fr is chosen from navigator.languages', T, async () => {
  const b = await visit('/test/lang-none.html', { locale: 'fr-FR' });
  try {
    assert.deepEqual(await b.page.evaluate(() => navigator.languages[0]), 'fr-FR');
    assert.deepEqual(b.langRequests, ['/pkg/cdn/lang/fr.json']);
    const { label, receipt } = await rejectAndReceipt(b);
    assert.equal(label, table('fr').rejectAll);
    assert.equal(receipt.lang, 'fr');
    assert.equal(receipt.texts, textsHash('fr'));
  } finally {
    await b.close();
  }
});

test('the config\'s language wins over <html lang> when the config comes from a URL', T, async () => {
  // The page says de, the config (lang-config.json) says fr: de may be fetched early, fr is shown.
  const b = await visit('/test/lang-url.html', { locale: 'en-US' });
  try {
    assert.ok(b.langRequests.includes('/pkg/cdn/lang/fr.json'), JSON.stringify(b.langRequests));
    const { label, receipt } = await rejectAndReceipt(b);
    assert.equal(label, table('fr').rejectAll);
    assert.equal(receipt.lang, 'fr');
    assert.equal(receipt.texts, textsHash('fr', ['necessary', 'analytics', 'marketing']));
    assert.deepEqual(warnings(b), []);
  } finally {
    await b.close();
  }
});

for (const [what, fulfil] of [
  ['missing (404)', (route) => route.fulfill({ status: 404, body: 'not found' })],
  ['unreachable', (route) => route.abort('failed')],
  ['missing a text', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"lang":"de","title":"Nur ein Titel"}' })],
  ['for another language', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: readFileSync(join(ROOT, 'src/core/lang/fr.json')) })],
  ['not JSON', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><p>oops' })],
]) {
  test(`a language file that is ${what} gives English with a console warning, never no banner`, T, async () => {
    const b = await visit('/test/lang-de.html', { locale: 'de-DE' }, [['**/lang/de.json', fulfil]]);
    try {
      const { label, hostLang, receipt } = await rejectAndReceipt(b);
      assert.equal(label, table('en').rejectAll);
      assert.equal(hostLang, 'en');
      assert.equal(receipt.lang, 'en');
      assert.equal(receipt.texts, textsHash('en'), 'the receipt must hash the English texts that were shown');
      const w = warnings(b);
      assert.equal(w.length, 1, JSON.stringify(b.console));
      assert.match(w[0], /texts for "de" .*lang\/de\.json.*showing English/);
      assert.deepEqual(b.pageErrors, []);
    } finally {
      await b.close();
    }
  });
}

test('English visitors make no language request (English page, English or German browser)', T, async () => {
  for (const [path, locale] of [['/test/lang-en.html', 'en-US'], ['/test/lang-en.html', 'de-DE'], ['/test/lang-none.html', 'en-GB'], ['/test/lang-none.html', 'ja-JP']]) {
    const b = await visit(path, { locale });
    try {
      // The receipt comes after the module has started: any language fetch would have begun.
      const { label, receipt } = await rejectAndReceipt(b);
      assert.deepEqual(b.langRequests, [], `${path} ${locale}`);
      assert.equal(label, 'Reject all');
      assert.equal(receipt.lang, 'en');
      assert.equal(receipt.texts, textsHash('en'));
      assert.deepEqual(warnings(b), []);
    } finally {
      await b.close();
    }
  }
});

test('the npm build loads the German table as its own chunk (import()) next to its bundle for a German page', T, async () => {
  // The demo's /npm/ page is English; served here as a German page.
  const rewrite = async (route) => {
    const r = await route.fetch();
    route.fulfill({ response: r, body: (await r.text()).replace('<html lang="en">', '<html lang="de">') });
  };
  const b = await visit('/npm/', { locale: 'en-US' }, [['**/npm/', rewrite]]);
  try {
    // The German table's chunk, once (esbuild's shared runtime chunk may sit beside it).
    const tables = b.langRequests.filter((p) => !/\/chunk-/.test(p));
    assert.equal(tables.length, 1, JSON.stringify(b.langRequests));
    assert.match(tables[0], /^\/dist\/lang\/de-[A-Z0-9]+\.js$/);
    const { label, receipt } = await rejectAndReceipt(b);
    assert.equal(label, table('de').rejectAll);
    assert.equal(receipt.lang, 'de');
    assert.deepEqual(warnings(b), []);
  } finally {
    await b.close();
  }
});
