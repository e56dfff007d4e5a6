// Two tabs of the same visitor deciding one after the other before the second tab has heard of the
// first decision (its `storage` event held back): the second receipt must be appended after the
// first, not beside it, so the collector gets one unbroken chain and refuses nothing.
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
