// Foundation must-shows, end to end in headless Chromium against `xtask serve`:
// the demo page shows the banner with no cookie, no storage and no request to the collector
// before any click; the npm-build page does the same; an invalid config names the field in the
// console and the module fails closed; the server sends .wasm as application/wasm and the
// collector answers bad bodies with a 4xx JSON error and keeps running; axe-core's findings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, requestsTo, stats, axe, formatViolations, banner, storageState, withBrowser } from './harness.mjs';

const T = { timeout: 90_000 };
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

/// Waits until the module has initialised (window.Consentry exists) or fails naming what it saw.
async function ready(b) {
  try {
    await b.page.waitForFunction(() => typeof window.Consentry === 'object', null, { timeout: 15_000 });
  } catch (e) {
    throw new Error(`window.Consentry never appeared; console: ${JSON.stringify(b.console)}; page errors: ${JSON.stringify(b.pageErrors)}`);
  }
}

/// Everything the first visit must not do before a click.
async function assertNothingBeforeClick(b, collectorRequests, statsBefore, where) {
  // Give timers, beacons and idle callbacks a chance to misbehave.
  await b.page.waitForLoadState('networkidle');
  await b.page.waitForTimeout(1500);
  const s = await storageState(b.page);
  assert.equal(s.cookie, '', `${where}: document.cookie is not empty`);
  assert.deepEqual(await b.context.cookies(), [], `${where}: the browser holds cookies (also HttpOnly ones)`);
  assert.deepEqual(s.local, [], `${where}: localStorage was written before any click`);
  assert.deepEqual(s.session, [], `${where}: sessionStorage was written before any click`);
  assert.deepEqual(collectorRequests, [], `${where}: requests to the collector before any click`);
  assert.deepEqual(await stats(server.url), statsBefore, `${where}: the collector stored something`);
}

test('demo page, first visit: banner shown; no cookie, no storage, no collector request', T, async () => {
  const before = await stats(server.url);
  await withBrowser({}, async (b) => {
    const collector = requestsTo(b.page);
    const wasm = [];
    b.page.on('response', (r) => { if (r.url().endsWith('.wasm')) wasm.push({ status: r.status(), type: r.headers()['content-type'] }); });
    await b.page.goto(server.url);
    await ready(b);
    const first = banner(b.page);
    await first.waitFor({ state: 'visible', timeout: 10_000 });
    await assert.doesNotReject(banner(b.page, 'button[data-a=accept]').waitFor({ state: 'visible', timeout: 1000 }), 'no visible Accept all');
    await assert.doesNotReject(banner(b.page, 'button[data-a=reject]').waitFor({ state: 'visible', timeout: 1000 }), 'no visible Reject all');
    assert.ok((await first.locator('h2').innerText()).trim().length > 0, 'the banner has no title');
    const hosts = await b.page.evaluate(() => {
      const h = document.querySelectorAll('#consentry');
      return { count: h.length, open: !!(h[0] && h[0].shadowRoot), firstInBody: document.body.firstElementChild === h[0] };
    });
    assert.deepEqual(hosts, { count: 1, open: true, firstInBody: true }, 'one #consentry host with an open shadow root, first in <body>');
    assert.deepEqual(wasm, [{ status: 200, type: 'application/wasm' }], 'the .wasm is fetched once, as application/wasm');
    await assertNothingBeforeClick(b, collector, before, 'demo page');
    assert.deepEqual(b.pageErrors, [], 'uncaught errors on the demo page');
    assert.deepEqual(b.console.filter((m) => m.type === 'error'), [], 'console errors on the demo page');
  });
});

test('npm-build page (bundled with esbuild), first visit: banner shown; nothing stored or sent', T, async () => {
  const before = await stats(server.url);
  await withBrowser({}, async (b) => {
    const collector = requestsTo(b.page);
    const r = await b.page.goto(new URL('/npm/', server.url).href);
    assert.equal(r.status(), 200, '/npm/ is served');
    await banner(b.page, 'button[data-a=reject]').waitFor({ state: 'visible', timeout: 15_000 });
    await assertNothingBeforeClick(b, collector, before, 'npm page');
    assert.deepEqual(b.pageErrors, [], 'uncaught errors on the npm page');
    assert.deepEqual(b.console.filter((m) => m.type === 'error'), [], 'console errors on the npm page');
  });
});

for (const [file, field, what, words] of [
  ['basic-bad-config.html', 'privacyPolicyURL', 'an unknown field', "privacyPolicyURL: unknown field: check its spelling against the README's config reference"],
  ['basic-bad-type.html', 'consentDays', 'a wrong type', 'consentDays: expected days from 1 to 395 (13 months at most)'],
  ['basic-bad-json.html', 'not valid JSON', 'bad JSON', 'Consentry config: not valid JSON: '],
]) {
  test(`invalid config (${what}): console error names "${field}"; no banner, nothing set or sent`, T, async () => {
    const before = await stats(server.url);
    await withBrowser({}, async (b) => {
      const collector = requestsTo(b.page);
      const errorSeen = b.page.waitForEvent('console', { predicate: (m) => m.type() === 'error', timeout: 15_000 }).catch(() => null);
      const r = await b.page.goto(new URL(`/test/${file}`, server.url).href);
      assert.equal(r.status(), 200, `/test/${file} is served`);
      await errorSeen;
      await assertNothingBeforeClick(b, collector, before, file);
      const errors = b.console.filter((m) => m.type === 'error').map((m) => m.text);
      assert.ok(errors.some((t) => t.includes('Consentry config') && t.includes(field)),
        `no console error naming ${field}; errors: ${JSON.stringify(errors)}`);
      // The words come from errors.json, fetched only for a wrong config.
      assert.ok(errors.some((t) => t.includes(words)), `no console error saying "${words}"; errors: ${JSON.stringify(errors)}`);
      const state = await b.page.evaluate(() => ({
        hosts: document.querySelectorAll('#consentry').length,
        api: typeof window.Consentry,
      }));
      assert.deepEqual(state, { hosts: 0, api: 'undefined' }, 'a banner host or an API object exists after a failed init');
    });
  });
}

test('collector: malformed and oversized bodies get a 4xx JSON error; the server keeps running', T, async () => {
  const before = await stats(server.url);
  const post = (path, body) => fetch(new URL(path, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  for (const [path, body, status] of [
    ['/batch/', '{"api_key":"k","batch":[', 400],
    ['/batch/', JSON.stringify({ api_key: 'k', batch: [{ event: 'x', properties: { pad: 'x'.repeat(70_000) } }] }), 413],
    ['/consentry/receipts', 'not json', 400],
  ]) {
    const r = await post(path, body);
    assert.equal(r.status, status, `POST ${path} (${body.length} B) answered ${r.status}`);
    const j = await r.json();
    assert.equal(typeof j.error, 'string', `POST ${path}: the error body has no "error" text: ${JSON.stringify(j)}`);
  }
  const after = await stats(server.url);
  assert.equal(after.receipts, before.receipts, 'a malformed body stored receipts');
  assert.equal(after.events, before.events, 'a malformed body stored events');
});

test('axe-core on the demo page with the banner: zero violations (findings listed)', T, async () => {
  await withBrowser({}, async (b) => {
    await b.page.goto(server.url);
    await banner(b.page, 'button[data-a=accept]').waitFor({ state: 'visible', timeout: 15_000 });
    const violations = await axe(b.page);
    if (violations.length) console.log('axe findings on /:\n' + formatViolations(violations));
    assert.equal(violations.length, 0, formatViolations(violations));
  });
});
