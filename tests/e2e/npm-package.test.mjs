// The npm package as a site developer meets it: `npm install ./pkg/npm` into a scratch project,
// import it in a server-side context (must not touch window), bundle it with esbuild, and run the
// bundle in Chromium (the demo's /npm/ page is built the same way by `cargo xtask build`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startServer, launch, banner } from './harness.mjs';

const PKG = join(ROOT, 'pkg/npm');

test('pkg/npm installs into a scratch project, imports without a window, and bundles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-npm-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', PKG], { cwd: dir, stdio: 'pipe' });
    const meta = JSON.parse(readFileSync(join(dir, 'node_modules/consentry/package.json'), 'utf8'));
    const cargo = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8');
    assert.equal(meta.version, /^version = "(.+)"/m.exec(cargo)[1], 'version comes from Cargo.toml');
    assert.ok(existsSync(join(dir, 'node_modules/consentry', meta.types)), 'types file is installed');
    assert.ok(existsSync(join(dir, 'node_modules/consentry/consentry_bg.wasm')), 'the .wasm is installed');

    // Server-side rendering: importing in Node (no window, no document) must not throw, and
    // init() must refuse politely instead of touching globals.
    const out = execFileSync('node', ['--input-type=module', '-e', `
      const m = await import('consentry');
      const r = await m.init({ policyVersion: '1', purposes: [{ id: 'analytics' }] }).then(() => 'resolved', (e) => 'rejected: ' + e.message);
      console.log(typeof m.init, typeof globalThis.window, r);
    `], { cwd: dir, encoding: 'utf8' });
    assert.match(out.trim(), /^function undefined rejected: .*browser/);

    // A bundler resolves the package by its exports map.
    writeFileSync(join(dir, 'main.js'), "import { init } from 'consentry';\nwindow.started = init;\n");
    execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), ['main.js', '--bundle', '--format=esm', '--outfile=out.js', '--log-level=warning'], { cwd: dir });
    const bundle = readFileSync(join(dir, 'out.js'), 'utf8');
    assert.match(bundle, /consentry_bg\.wasm/, 'the bundle locates the .wasm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundled npm page shows the banner and reports consent through the API', async () => {
  const server = await startServer();
  const { page, close } = await launch();
  try {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url + 'npm/');
    await banner(page).locator('button[data-a=accept]').waitFor();
    assert.equal(await page.locator('#state').textContent(), JSON.stringify({ necessary: true, analytics: false, marketing: false, functional: false }));
    await banner(page).locator('button[data-a=reject]').click();
    await page.locator('#state').filter({ hasText: '"analytics":false' }).waitFor();
    await page.evaluate(() => window.Consentry.setConsent({ functional: true }));
    await page.locator('#state').filter({ hasText: '"functional":true' }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await close();
    await server.stop();
  }
});

test('a wrong config through the npm build: init() rejects with the field and the words; no banner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-npm-bad-'));
  const server = await startServer();
  const { page, close } = await launch();
  try {
    writeFileSync(join(dir, 'main.js'), `import { init } from ${JSON.stringify(join(PKG, 'index.js'))};
      init({ policyVersion: '1', purposes: [{ id: 'analytics' }], layout: 'modal' })
        .then(() => { window.result = 'resolved'; }, (e) => { window.result = e.message; });`);
    execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), ['main.js', '--bundle', '--format=esm', '--outfile=out.js', '--log-level=warning'], { cwd: dir });
    const bundle = readFileSync(join(dir, 'out.js'), 'utf8');
    // The bundle stands in for the demo's own, so its URL (and so the .wasm's) is /dist/.
    await page.route('**/dist/npm-demo.js', (route) => route.fulfill({ body: bundle, contentType: 'text/javascript' }));
    const result = async () => {
      await page.goto(server.url + 'npm/');
      await page.waitForFunction(() => window.result !== undefined, null, { timeout: 15_000 });
      return page.evaluate(() => window.result);
    };
    assert.equal(await result(), 'Consentry config: layout: expected "box" or "bar"');
    assert.equal(await page.locator('#consentry').count(), 0, 'no banner');
  } finally {
    await close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a good config never loads the error words (errors.json, or the npm build\'s errors chunk)', async () => {
  const server = await startServer();
  const { page, close } = await launch();
  try {
    const requested = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(server.url);
    await banner(page).locator('button[data-a=accept]').waitFor();
    await page.goto(server.url + 'npm/');
    await banner(page).locator('button[data-a=accept]').waitFor();
    assert.ok(requested.some((p) => p.endsWith('.wasm')), JSON.stringify(requested));
    assert.ok(!requested.some((p) => /\/errors[.-]/.test(p)), JSON.stringify(requested));
  } finally {
    await close();
    await server.stop();
  }
});
