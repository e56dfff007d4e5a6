// Two tabs of the same visitor deciding one after the other before the second tab has heard of the
// first decision (its `storage` event held back): the second receipt must be appended after the
// first, not beside it, so the collector gets one unbroken chain and refuses nothing. And a tab
// whose undelivered receipt another tab's write missed keeps it, re-chained after the other's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, launch, stats, banner, XTASK, until } from './harness.mjs';

test('a decision in a tab that missed the other tab\'s storage event continues the chain', { timeout: 90_000 }, async () => {
  const server = await startServer();
  const { context, page: a, close } = await launch();
  try {
    // Lets the test hold back this tab's storage events, as a busy or throttled tab would.
    await context.addInitScript(() => {
      window.addEventListener('storage', (e) => { if (window.__holdStorage) e.stopImmediatePropagation(); }, true);
    });
    await a.goto(server.url);
    await banner(a).locator('button[data-a=accept]').click();
    await until(async () => (await stats(server.url)).receipts === 1, 'the first receipt');

    const b = await context.newPage();
    await b.goto(server.url);
    await b.waitForFunction(() => typeof window.Consentry === 'object');
    await b.evaluate(() => { window.__holdStorage = true; });

    await a.evaluate(() => window.Consentry.rejectAll());
    await until(async () => (await stats(server.url)).receipts === 2, 'the second receipt');
    // Tab b still believes the newest receipt is seq 1.
    await b.evaluate(() => window.Consentry.setConsent({ functional: true }));
    await until(async () => (await stats(server.url)).receipts === 3, 'the third receipt');

    const s = await stats(server.url);
    assert.equal(s.rejected, 0, 'the collector refused nothing (no fork)');
    const seqs = await b.evaluate(() => window.Consentry.evidence().map((r) => [r.seq, r.method]));
    assert.deepEqual(seqs, [[1, 'accept_all'], [2, 'withdraw'], [3, 'api']]);
    const v = spawnSync(XTASK, ['verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await close();
    await server.stop();
  }
});

test('a tab whose undelivered receipt another tab\'s write missed keeps it, after the other\'s', { timeout: 90_000 }, async () => {
  const server = await startServer();
  const { context, page: a, close } = await launch();
  try {
    await context.addInitScript(() => {
      window.addEventListener('storage', (e) => { if (window.__holdStorage) e.stopImmediatePropagation(); }, true);
    });
    await a.goto(server.url);
    await banner(a).locator('button[data-a=accept]').click();
    await until(async () => (await stats(server.url)).receipts === 1, 'the first receipt');
    const first = await a.evaluate(() => localStorage.getItem('consentry'));

    // Tab b is offline for the collector: its decision stays in its outbox.
    const b = await context.newPage();
    let offline = true;
    await b.route('**/consentry/receipts', (r) => (offline ? r.abort() : r.continue()));
    await b.goto(server.url);
    await b.waitForFunction(() => typeof window.Consentry === 'object');
    await a.evaluate(() => { window.__holdStorage = true; });
    await b.evaluate(() => window.Consentry.setConsent({ functional: true }));
    const mine = (await b.evaluate(() => window.Consentry.evidence()))[1];
    assert.equal(mine.seq, 2);

    // Tab a never saw it (its process was behind): it decides on the log as it was, and its write
    // replaces b's.
    await a.evaluate((s) => localStorage.setItem('consentry', s), first);
    await a.evaluate(() => window.Consentry.rejectAll());
    await until(async () => (await stats(server.url)).receipts === 2, 'tab a\'s receipt');
    const theirs = (await a.evaluate(() => window.Consentry.evidence()))[1];
    assert.equal(theirs.seq, 2);
    assert.notEqual(theirs.id, mine.id);

    // Tab b reads a's log and keeps its own decision after a's; once online it is delivered.
    await until(async () => (await b.evaluate(() => window.Consentry.evidence().length)) === 3, 'b keeps its receipt');
    offline = false;
    await until(async () => (await stats(server.url)).receipts === 3, 'b\'s receipt at the collector');
    const chain = await b.evaluate(() => window.Consentry.evidence());
    assert.deepEqual(chain.map((r) => [r.seq, r.id]), [[1, chain[0].id], [2, theirs.id], [3, mine.id]]);
    assert.equal(chain[2].prev, theirs.hash);
    assert.equal((await stats(server.url)).rejected, 0, 'no fork reached the collector');
    const v = spawnSync(XTASK, ['verify', '--db', server.db], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout + v.stderr, /ok, 3 receipts/);
  } finally {
    await close();
    await server.stop();
  }
});
