// Consent evidence end to end: the browser records a receipt, the local collector verifies and
// keeps it, and `cargo xtask verify` agrees. Covers: accept → one verified receipt; withdraw →
// a second, chained; the collector down during a decision → the receipt arrives after it is back;
// a receipt edited in localStorage → verifyEvidence() names it and the visitor is asked again;
// a forged POST → 422 (409 for a fork, showing nothing without the secret) and nothing stored;
// a fork by a tab that missed another's decision → re-chained after the collector's receipts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launch, stats, banner, XTASK, until } from './harness.mjs';

const T = { timeout: 90_000 };

const receiptsStored = (url, n) => until(async () => (await stats(url)).receipts === n, `${n} receipt(s) at the collector`);

async function exported(url, subject) {
  const r = await fetch(new URL(`/consentry/subjects/${subject}`, url));
  assert.equal(r.status, 200, `export of ${subject}`);
  return r.json();
}

/// `cargo xtask verify ARGS…` → {status, out}.
function verify(...args) {
  const r = spawnSync(XTASK, ['verify', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const browserReceipts = (page) => page.evaluate(() => window.Consentry.evidence());

/// Loads the demo page and waits for the module to be ready (the banner's first layer shown).
async function open(page, url) {
  await page.goto(url);
  await banner(page, 'button[data-a=accept]').first().waitFor({ state: 'visible', timeout: 15_000 });
}

async function withRig(fn, { db } = {}) {
  const server = await startServer({ db });
  const browser = await launch();
  try {
    await fn({ server, browser, page: browser.page });
  } finally {
    await browser.close();
    await server.stop();
  }
}

test('accept, then withdraw in the preferences: the collector holds a verified chain of two', T, () =>
  withRig(async ({ server, page }) => {
    await open(page, server.url);
    await banner(page, 'button[data-a=accept]').first().click();
    await receiptsStored(server.url, 1);

    const [first] = await browserReceipts(page);
    assert.equal(first.method, 'accept_all');
    assert.equal(first.seq, 1);
    assert.equal(first.choices.analytics, true);
    let doc = await exported(server.url, first.subject);
    assert.deepEqual(doc.receipts, [first], 'the collector keeps exactly what the browser recorded');
    let v = verify('--db', server.db);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, new RegExp(`${first.subject}: ok, 1 receipts`));

    // Withdraw through the second layer: switch analytics off and save.
    await page.evaluate(() => window.Consentry.showPreferences());
    const analytics = banner(page, 'dialog input[data-p=analytics]');
    await analytics.waitFor({ state: 'visible' });
    assert.equal(await analytics.isChecked(), true);
    await analytics.uncheck();
    await banner(page, 'dialog button[data-a=save]').click();
    await receiptsStored(server.url, 2);

    doc = await exported(server.url, first.subject);
    const second = doc.receipts[1];
    assert.equal(second.seq, 2);
    assert.equal(second.prev, first.hash, 'the second receipt links to the first');
    assert.equal(second.method, 'withdraw');
    assert.equal(second.choices.analytics, false);
    assert.deepEqual(await browserReceipts(page), doc.receipts);
    v = verify('--db', server.db);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, new RegExp(`${first.subject}: ok, 2 receipts`));

    // The visitor's own export verifies offline too, and the browser agrees with itself.
    assert.deepEqual(await page.evaluate(() => window.Consentry.verifyEvidence()), { ok: true, count: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'consentry-export-'));
    try {
      const file = join(dir, 'evidence.json');
      writeFileSync(file, await page.evaluate(() => window.Consentry.exportEvidence()));
      v = verify(file);
      assert.equal(v.status, 0, v.out);
      assert.match(v.out, /: ok, 2 receipts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Reloading sends nothing new: delivered receipts are not stored twice.
    await page.reload();
    await page.waitForFunction(() => window.Consentry && window.Consentry.getConsent().analytics === false);
    await new Promise((r) => setTimeout(r, 500));
    const s = await stats(server.url);
    assert.equal(s.receipts, 2);
    assert.equal(s.rejected, 0);
  }));

test('decisions in English and in German: the collector keeps both wordings, and verify --db finds every receipt\'s', T, async () => {
  const server = await startServer();
  try {
    const subjects = [];
    for (const locale of ['en-US', 'de-DE']) {
      const b = await launch({ locale });
      try {
        // The demo page says it is English; served here in the visitor's language.
        await b.page.route(server.url, async (route) => {
          const r = await route.fetch();
          route.fulfill({ response: r, body: (await r.text()).replace('<html lang="en">', `<html lang="${locale.slice(0, 2)}">`) });
        });
        await open(b.page, server.url);
        await banner(b.page, 'button[data-a=reject]').first().click();
        await b.page.evaluate(() => window.Consentry.acceptAll());
        const receipts = await browserReceipts(b.page);
        assert.equal(receipts[0].lang, locale.slice(0, 2));
        subjects.push(receipts[0].subject);
      } finally {
        await b.close();
      }
    }
    await receiptsStored(server.url, 4);
    const v = verify('--db', server.db, '--require-texts');
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, /the texts document of every receipt is stored/);
    // The export carries the wording each receipt hashes: the German one reads German.
    const de = await exported(server.url, subjects[1]);
    const wording = JSON.parse(de.texts[de.receipts[0].texts]);
    assert.equal(createHash('sha256').update(de.texts[de.receipts[0].texts]).digest('hex'), de.receipts[0].texts);
    assert.equal(wording.lang, 'de');
    assert.equal(wording.texts.rejectAll, 'Alle ablehnen');
  } finally {
    await server.stop();
  }
});

test('the collector is down during a decision: the receipt arrives after it is back', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-restart-'));
  const db = join(dir, 'collector.sqlite');
  const browser = await launch();
  const { page } = browser;
  let server = await startServer({ db });
  try {
    await open(page, server.url);
    const { port, url } = server;
    await server.stop();

    await banner(page, 'button[data-a=accept]').first().click();
    const [r] = await browserReceipts(page);
    assert.equal(r.method, 'accept_all');
    await new Promise((res) => setTimeout(res, 500));
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('consentry')));
    assert.equal(stored.delivered, 0, 'not acknowledged while the collector is down');

    server = await startServer({ port, db });
    assert.equal(server.url, url);
    assert.equal((await stats(url)).receipts, 0, 'nothing arrived while it was down');
    await page.reload();
    await receiptsStored(url, 1);
    const doc = await exported(url, r.subject);
    assert.deepEqual(doc.receipts, [r]);
    await until(
      () => page.evaluate(() => JSON.parse(localStorage.getItem('consentry')).delivered === 1),
      'the browser to see the acknowledgement',
    );
    const v = verify('--db', db);
    assert.equal(v.status, 0, v.out);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a receipt edited in localStorage is reported and the visitor is asked again', T, () =>
  withRig(async ({ server, page, browser }) => {
    await open(page, server.url);
    await banner(page, 'button[data-a=reject]').first().click();
    await receiptsStored(server.url, 1);
    assert.deepEqual(await page.evaluate(() => window.Consentry.verifyEvidence()), { ok: true, count: 1 });

    // Turn the recorded refusal into a consent without fixing the hash.
    const edited = await page.evaluate(() => {
      const log = JSON.parse(localStorage.getItem('consentry'));
      log.receipts[0].choices.analytics = true;
      const text = JSON.stringify(log);
      localStorage.setItem('consentry', text);
      return text;
    });
    const report = await page.evaluate(() => window.Consentry.verifyEvidence());
    assert.equal(report.ok, false);
    assert.equal(report.brokenAt, 0);
    assert.match(report.reason, /hash/);

    await page.reload();
    await banner(page, 'button[data-a=accept]').first().waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.evaluate(() => window.Consentry.getConsent().analytics), false, 'the edit grants nothing');
    assert.equal(await page.evaluate(() => localStorage.getItem('consentry:quarantine')), edited);
    assert.ok(
      browser.console.some((m) => m.type === 'error' && /failed verification/.test(m.text)),
      'the console says why the visitor is asked again',
    );
    assert.equal((await stats(server.url)).receipts, 1, 'the collector still holds only the real receipt');
  }));

/// The canonical text of a receipt (format version 2: RFC 8785 / JCS, every field but `hash` with
/// keys sorted) and its SHA-256: what a forger who knows the format can compute.
const jcs = (v) => (v && typeof v === 'object' && !Array.isArray(v)
  ? '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}'
  : JSON.stringify(v));
function reseal(r) {
  const { hash, ...fields } = r;
  return { ...fields, hash: createHash('sha256').update(jcs(fields)).digest('hex') };
}

test('a tab that missed another tab\'s decision forks the chain: the collector answers 409 and the browser re-chains after its receipt', T, () =>
  withRig(async ({ server, page }) => {
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await open(page, server.url);
    await page.evaluate(() => window.Consentry.acceptAll());
    await receiptsStored(server.url, 1);
    const stale = await page.evaluate(() => localStorage.getItem('consentry'));
    await page.evaluate(() => window.Consentry.rejectAll());
    await receiptsStored(server.url, 2);
    const [, theirs] = await browserReceipts(page);
    // A tab that missed that decision (its process had not yet seen the write) stored the log as
    // it was before it, and decides again: its receipt takes seq 2 too.
    await page.evaluate((s) => localStorage.setItem('consentry', s), stale);
    await page.reload();
    await page.waitForFunction(() => window.Consentry?.evidence?.().length === 1);
    await page.evaluate(() => window.Consentry.setConsent({ analytics: false }));
    const forked = (await browserReceipts(page))[1];
    assert.equal(forked.seq, 2, 'a fork');
    assert.notEqual(forked.hash, theirs.hash);
    await receiptsStored(server.url, 3);
    assert.equal((await stats(server.url)).rejected, 2, 'the fork was answered 409 twice: first without its receipts, then, with the secret, with them');
    const mine = await browserReceipts(page);
    assert.deepEqual(mine.map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(mine[1], theirs, 'the other tab\'s receipt keeps seq 2');
    assert.equal(mine[2].id, forked.id, 'this tab\'s decision follows it, same id');
    assert.equal(mine[2].time, forked.time);
    assert.equal(mine[2].prev, theirs.hash);
    const doc = await exported(server.url, theirs.subject);
    assert.deepEqual(doc.receipts, mine, 'the collector holds the same chain as the browser');
    const v = verify('--db', server.db);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, new RegExp(`${theirs.subject}: ok, 3 receipts`));
    assert.equal((await page.evaluate(() => window.Consentry.verifyEvidence())).ok, true);
    assert.deepEqual(errors.filter((e) => e.includes('refused')), [], 'nothing is said refused');
  }));

test('a forged POST is refused with 422 (a fork 409) and nothing is stored', T, () =>
  withRig(async ({ server, page }) => {
    await open(page, server.url);
    await banner(page, 'button[data-a=reject]').first().click();
    await receiptsStored(server.url, 1);
    const [real] = await browserReceipts(page);
    assert.equal(reseal(real).hash, real.hash, 'the test computes hashes as the core does');

    const post = async (body) => {
      const r = await fetch(new URL('/consentry/receipts', server.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: await r.json() };
    };

    // The real receipt, rewritten to a consent: the hash gives it away.
    const edited = { ...real, choices: { ...real.choices, analytics: true } };
    let r = await post([edited]);
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.id, real.id);
    assert.match(r.body.reason, /hash/);

    // A well-hashed receipt that claims to follow a receipt that does not exist.
    const id = 'ab'.repeat(16);
    const detached = reseal({ ...real, id, seq: 2, method: 'accept_all', prev: 'ab'.repeat(32), choices: { ...real.choices, analytics: true } });
    r = await post([detached]);
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.id, id);
    assert.match(r.body.reason, /prev/);

    // A fresh chain squeezed in as seq 1 under the same subject: a fork, answered 409 (a tab of
    // the same browser re-chains after the stored receipts), but shown none of them without the
    // subject's secret.
    const fork = reseal({ ...real, id });
    r = await post(fork);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(r.body.reason, /seq/);
    assert.equal(r.body.receipts, undefined);
    assert.equal(r.body.secret, 'required');

    // Sending the real one again is acknowledged as a duplicate, not stored twice.
    r = await post([real]);
    assert.deepEqual(r, { status: 200, body: { accepted: [], duplicates: [real.id] } });

    const s = await stats(server.url);
    assert.equal(s.receipts, 1);
    assert.equal(s.rejected, 3);
    assert.deepEqual((await exported(server.url, real.subject)).receipts, [real]);
  }));

test('storage blocked: the choice holds for this page and is delivered; the next page asks again and tracks nothing', T, () =>
  withRig(async ({ server, browser, page }) => {
    await page.addInitScript(() => {
      Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); } });
    });
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await open(page, server.url);
    await banner(page, 'button[data-a=accept]').first().click();
    assert.ok(errors.some((e) => e.includes('storage is blocked or full')), `the visitor's site is told: ${errors}`);
    assert.equal((await page.evaluate(() => window.Consentry.getConsent())).analytics, true, 'the choice holds for this page');
    assert.equal(await banner(page, 'section').count(), 0, 'the banner is gone');
    await receiptsStored(server.url, 1); // the evidence still reaches the collector
    assert.ok((await browser.context.cookies()).some((c) => c.name === 'cs_id'), 'the tracker runs on this page');

    await page.reload();
    await banner(page, 'button[data-a=accept]').first().waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal((await page.evaluate(() => window.Consentry.getConsent())).analytics, false, 'nothing remembered: fails closed');
    assert.deepEqual((await browser.context.cookies()).filter((c) => c.name === 'cs_id'), [], 'the tracker cookie is removed at load');
  }));
