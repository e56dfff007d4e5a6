// The script tag's `integrity` attribute covers the .wasm too: the loader fetches it with the
// SHA-384 the build wrote into it, so a .wasm changed on the server (or in transit) never runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer, launch, banner } from './harness.mjs';

test('the loader pins the .wasm named in the manifest', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'pkg/cdn/manifest.json'), 'utf8'));
  const loader = readFileSync(join(ROOT, 'pkg/cdn/consentry.js'), 'utf8');
  assert.ok(loader.includes(manifest.files['consentry_bg.wasm'].integrity), 'the loader holds the .wasm hash');
});

for (const tamper of [false, true]) {
  test(tamper ? 'a .wasm with one byte changed is refused: no banner, no API, an error' : 'the untouched .wasm loads', async () => {
    const server = await startServer();
    const { page, close } = await launch();
    try {
      const errors = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      if (tamper) {
        await page.route('**/consentry_bg.wasm', async (route) => {
          const res = await route.fetch();
          const body = Buffer.from(await res.body());
          body[body.length - 1] ^= 1; // the last byte sits in the data section: still a valid module
          await route.fulfill({ response: res, body });
        });
      }
      await page.goto(server.url);
      if (tamper) {
        await page.waitForTimeout(1500);
        assert.equal(await page.evaluate(() => typeof window.Consentry), 'undefined');
        assert.equal(await banner(page).count(), 0);
        assert.ok(errors.some((e) => /integrity/i.test(e)), `an integrity error is reported: ${JSON.stringify(errors)}`);
      } else {
        await banner(page).locator('button[data-a=accept]').waitFor();
        assert.deepEqual(errors, []);
      }
    } finally {
      await close();
      await server.stop();
    }
  });
}
