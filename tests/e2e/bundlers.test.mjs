// The npm package in the bundlers its users run, with no configuration: a scratch app per bundler
// (Vite 8, Vite 6, webpack 5, all pinned in the root package-lock.json) installs pkg/npm from an
// `npm pack` tarball, as it arrives from the registry (real files in node_modules, so Vite
// pre-bundles it), and imports `init` from 'consentry'. Each app runs in Chromium: Vite's dev
// server, Vite's production build and webpack's production build served statically under a strict
// CSP. Every run checks the banner, a decision (Reject all: getConsent() and a receipt), on() and
// its unsubscribe function, and a German visitor; the builds are checked for inlined language
// tables or .wasm. The failure cases (the .wasm or a language chunk answered with an HTML page, a
// symlinked install in Vite's dev server) must give a clear error.
//
// Owns: building and serving the scratch apps. Must never: ask the network (every install is
// --offline from the tarball; the bundlers come from the root node_modules) or assert a duration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, existsSync, cpSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { ROOT, launch, banner, until } from './harness.mjs';

const run = promisify(execFile);
const PKG = join(ROOT, 'pkg/npm');
const BIN = {
  vite: join(ROOT, 'node_modules/vite/bin/vite.js'),
  vite6: join(ROOT, 'node_modules/vite6/bin/vite.js'),
  webpack: join(ROOT, 'node_modules/webpack-cli/bin/cli.js'),
};
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'";
const CONFIG = { policyVersion: '2026-11', purposes: [{ id: 'analytics' }] };
const GERMAN_REJECT = 'Alle ablehnen'; // src/core/lang/de.json's rejectAll
const GERMAN_TITLE = JSON.parse(readFileSync(join(ROOT, 'src/core/lang/de.json'), 'utf8')).title;

// The site's own entry module: all a site needs. The result (the API or the error's message)
// is left on window for the test to read.
const MAIN = `import { init } from 'consentry';
window.consentry = init(${JSON.stringify(CONFIG)}).then((api) => { window.api = api; return 'started'; }, (e) => e.message);
`;
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>';
// No lang attribute: the visitor's browser language decides (Chromium's locale).
const HTML = (script) => `<!doctype html>
<html>
<head><meta charset="utf-8"><link rel="icon" href="/favicon.svg"><title>A shop</title></head>
<body><h1>A shop</h1>${script}</body>
</html>
`;

let work;
let tarball;
let started;
before(async () => {
  started = Date.now();
  assert.ok(existsSync(join(PKG, 'package.json')), 'pkg/npm is missing: run cargo xtask build');
  for (const [name, bin] of Object.entries(BIN)) assert.ok(existsSync(bin), `${name} is not installed: npm ci`);
  work = mkdtempSync(join(tmpdir(), 'consentry-bundlers-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, PKG], { cwd: work });
  tarball = join(work, stdout.trim().split('\n').pop());
  assert.ok(existsSync(tarball), `npm pack made no ${tarball}`);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  // How long this file took (reported, never asserted).
  if (started) console.log(`bundlers.test.mjs: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

/// A scratch app in a fresh folder: `files` written, then the package installed as a user would
/// (`npm install <spec>`; the tarball unless told otherwise), offline.
async function app(name, files, { install = tarball, flags = [] } = {}) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, private: true, type: 'module' }, null, 2));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  await run('npm', ['install', '--no-audit', '--no-fund', '--offline', ...flags, install], { cwd: dir });
  return dir;
}

const viteApp = (name, opts) => app(name, {
  'index.html': HTML('<script type="module" src="/main.js"></script>'),
  'main.js': MAIN,
  'public/favicon.svg': ICON,
}, opts);

/// Runs a bundler's command line in `dir` (as `npx vite build` would); fails with its output.
async function bundle(bin, args, dir) {
  try {
    await run(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  } catch (e) {
    throw new Error(`${bin} ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
}

/// Vite's dev server on a free port in `dir`; resolves to { url, stop }.
async function viteDev(bin, dir) {
  const proc = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', '0'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((res) => proc.once('exit', res));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    // eslint-disable-next-line no-control-regex
    const m = await until(() => proc.exitCode === null && /http:\/\/127\.0\.0\.1:\d+\//.exec(out.replace(/\x1b\[[0-9;]*m/g, '')), `vite's dev server URL (output: ${out})`, 30_000);
    return { url: m[0], stop, get output() { return out; } };
  } catch (e) {
    await stop();
    throw e;
  }
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.json': 'application/json', '.css': 'text/css' };

/// A static server for a production build, like a plain host: `csp` adds the strict
/// Content-Security-Policy header to every answer; `fallback` answers an unknown path with
/// index.html (a single-page-app host), as dev servers and many hosts do.
async function serve(dir, { csp = false, fallback = false } = {}) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path.endsWith('/') ? path + 'index.html' : path);
    let ok = existsSync(file) && statSync(file).isFile();
    if (!ok && fallback) { file = join(dir, 'index.html'); ok = true; }
    const headers = { 'X-Content-Type-Options': 'nosniff' };
    if (csp) headers['Content-Security-Policy'] = CSP;
    if (!ok) { res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }); res.end('not found'); return; }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return { url: `http://127.0.0.1:${server.address().port}/`, stop: () => new Promise((res) => server.close(res)) };
}

/// Opens `url` in a fresh context (locale `locale`) and waits for init() to settle. Returns the
/// browser handle, what init() gave ('started' or the error's message) and the CSP violations.
async function open(url, locale = 'en-US') {
  const b = await launch({ locale });
  await b.context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const requests = [];
  b.page.on('request', (r) => requests.push(r.url()));
  try {
    await b.page.goto(url);
    await b.page.waitForFunction(() => window.consentry, null, { timeout: 20_000 });
    const result = await b.page.evaluate(() => window.consentry);
    return { b, result, requests, csp: () => b.page.evaluate(() => window.__csp) };
  } catch (e) {
    await b.close();
    throw e;
  }
}

/// An English visitor: the banner, Reject all (getConsent, a receipt), on() and its
/// unsubscribe function; with `csp`, no violation. Returns the URLs the page requested.
async function englishVisitor(url, what, { csp = false } = {}) {
  const { b, result, requests, csp: violations } = await open(url, 'en-US');
  try {
    assert.equal(result, 'started', `${what}: init() failed; console: ${JSON.stringify(b.console)}`);
    const reject = banner(b.page, 'section button[data-a=reject]');
    await reject.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal((await reject.innerText()).trim(), 'Reject all', `${what}: not the English banner`);
    await b.page.evaluate(() => {
      window.heard = [];
      window.off = window.api.on('change', ({ method, consent }) => window.heard.push([method, consent.analytics]));
    });
    assert.equal(await b.page.evaluate(() => typeof window.off), 'function', `${what}: on() returns no function`);
    await reject.click();
    const state = await b.page.evaluate(() => ({ consent: window.api.getConsent(), evidence: window.api.evidence() }));
    assert.equal(state.consent.analytics, false, `${what}: Reject all left analytics ${state.consent.analytics}`);
    assert.equal(state.evidence.length, 1, `${what}: Reject all made ${state.evidence.length} receipts`);
    assert.equal(state.evidence[0].method, 'reject_all');
    assert.equal(state.evidence[0].choices.analytics, false);
    assert.deepEqual(await b.page.evaluate(() => window.heard), [['reject_all', false]], `${what}: the on() listener did not hear the decision`);
    // Unsubscribed, the listener hears nothing more; the decision still happens.
    await b.page.evaluate(() => { window.off(); window.api.acceptAll(); });
    assert.equal(await b.page.evaluate(() => window.api.getConsent().analytics), true);
    assert.equal(await b.page.evaluate(() => window.api.evidence().length), 2);
    assert.deepEqual(await b.page.evaluate(() => window.heard), [['reject_all', false]], `${what}: the listener heard a decision after its unsubscribe`);
    assert.deepEqual(b.pageErrors, [], `${what}: page errors`);
    if (csp) {
      assert.deepEqual(await violations(), [], `${what}: CSP violations`);
      assert.deepEqual(b.console.filter((m) => /Content Security Policy/i.test(m.text)), [], `${what}: CSP messages`);
    }
    return requests;
  } finally {
    await b.close();
  }
}

/// A German visitor (browser language de-DE): the German banner; with `csp`, no violation.
async function germanVisitor(url, what, { csp = false } = {}) {
  const { b, result, csp: violations } = await open(url, 'de-DE');
  try {
    assert.equal(result, 'started', `${what}: init() failed; console: ${JSON.stringify(b.console)}`);
    const reject = banner(b.page, 'section button[data-a=reject]');
    await reject.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal((await reject.innerText()).trim(), GERMAN_REJECT, `${what}: a German visitor got another language; console: ${JSON.stringify(b.console)}`);
    assert.match(await banner(b.page, 'section').innerText(), new RegExp(GERMAN_TITLE));
    await reject.click();
    assert.equal(await b.page.evaluate(() => window.api.evidence()[0].lang), 'de', `${what}: the receipt does not record German`);
    assert.deepEqual(b.pageErrors, [], `${what}: page errors`);
    if (csp) {
      assert.deepEqual(await violations(), [], `${what}: CSP violations`);
      assert.deepEqual(b.console.filter((m) => /Content Security Policy/i.test(m.text)), [], `${what}: CSP messages`);
    }
  } finally {
    await b.close();
  }
}

/// Every file under `dir`, as paths relative to it.
function files(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)]);
}

/// A production build's output: the .wasm is a file of its own, no JavaScript holds a data: URL
/// (an inlined .wasm or language file) or WebAssembly's magic bytes, and the entry chunk holds no
/// language table: German is in a chunk of its own. Returns the German chunk's path.
function assertSplit(out, entry, what) {
  const all = files(out);
  const wasm = all.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `${what}: expected one .wasm file in the output, found ${JSON.stringify(all)}`);
  assert.equal(readFileSync(join(out, wasm[0])).subarray(0, 4).toString('hex'), '0061736d', `${what}: ${wasm[0]} is not WebAssembly`);
  const js = all.filter((f) => f.endsWith('.js'));
  for (const f of js) {
    const text = readFileSync(join(out, f), 'utf8');
    assert.doesNotMatch(text, /data:application\/(wasm|json|octet-stream)|data:text\/javascript/, `${what}: ${f} inlines a file as a data: URL`);
    assert.doesNotMatch(text, /AGFzbQ/, `${what}: ${f} holds a base64 .wasm`);
  }
  const main = readFileSync(join(out, entry), 'utf8');
  assert.match(main, /Consentry/, `${what}: ${entry} is not the entry chunk`);
  for (const german of [GERMAN_REJECT, GERMAN_TITLE]) {
    assert.ok(!main.includes(german), `${what}: the entry chunk ${entry} holds the German table ("${german}")`);
  }
  const de = js.filter((f) => readFileSync(join(out, f), 'utf8').includes(GERMAN_REJECT));
  assert.equal(de.length, 1, `${what}: the German table should be in exactly one chunk of its own, found in ${JSON.stringify(de)}`);
  return de[0];
}

/// The entry script a built index.html loads.
function entryOf(out) {
  const m = /<script[^>]*src="\/?([^"]+\.js)"/.exec(readFileSync(join(out, 'index.html'), 'utf8'));
  assert.ok(m, `no script in ${out}/index.html`);
  return m[1];
}

for (const vite of ['vite', 'vite6']) {
  const label = vite === 'vite' ? 'Vite 8' : 'Vite 6';

  test(`${label} dev server: banner, Reject all, on() and its unsubscribe, a German visitor`, async () => {
    const dir = await viteApp(`${vite}-dev`);
    const dev = await viteDev(BIN[vite], dir);
    try {
      const requests = await englishVisitor(dev.url, `${label} dev`);
      // The case users hit: installed as files in node_modules, the package is pre-bundled.
      assert.ok(requests.some((u) => /\/node_modules\/\.vite\/deps\/consentry\.js/.test(u)), `${label} dev did not pre-bundle the package: ${requests.join(' ')}`);
      await germanVisitor(dev.url, `${label} dev`);
      assert.doesNotMatch(dev.output, /outside of Vite serving allow list/, `${label} dev refused a file`);
    } finally {
      await dev.stop();
    }
  });

  test(`${label} production build: no inlined language table or .wasm; served under a strict CSP: banner, decision, German`, async () => {
    const dir = await viteApp(`${vite}-build`);
    await bundle(BIN[vite], ['build'], dir);
    const out = join(dir, 'dist');
    assertSplit(out, entryOf(out), `${label} build`);
    const site = await serve(out, { csp: true });
    try {
      await englishVisitor(site.url, `${label} build`, { csp: true });
      await germanVisitor(site.url, `${label} build`, { csp: true });
    } finally {
      await site.stop();
    }
  });
}

test('webpack 5 production build: no inlined language table or .wasm; served under a strict CSP: banner, decision, German', async () => {
  const dir = await app('webpack', { 'src/index.js': MAIN });
  // `npx webpack --mode production` with no config: ./src/index.js into ./dist/main.js.
  await bundle(BIN.webpack, ['--mode', 'production'], dir);
  const out = join(dir, 'dist');
  writeFileSync(join(out, 'index.html'), HTML('<script src="/main.js"></script>'));
  writeFileSync(join(out, 'favicon.svg'), ICON);
  assertSplit(out, 'main.js', 'webpack');
  const site = await serve(out, { csp: true });
  try {
    await englishVisitor(site.url, 'webpack build', { csp: true });
    await germanVisitor(site.url, 'webpack build', { csp: true });
  } finally {
    await site.stop();
  }
});

test('a host that answers a missing .wasm or language chunk with its page: a clear error, English instead of German', async () => {
  // Vite 8's and webpack's builds from the tests above, copied, each with a file removed, served
  // by a host that answers every unknown path with index.html.
  const cases = [];
  for (const [name, built] of [['Vite 8', join(work, 'vite-build/dist')], ['webpack', join(work, 'webpack/dist')]]) {
    assert.ok(existsSync(built), `${name}'s build is missing (its test above failed)`);
    const noWasm = join(work, `${name}-no-wasm`);
    cpSync(built, noWasm, { recursive: true });
    const wasm = files(noWasm).find((f) => f.endsWith('.wasm'));
    rmSync(join(noWasm, wasm));
    const noGerman = join(work, `${name}-no-german`);
    cpSync(built, noGerman, { recursive: true });
    const entry = name === 'webpack' ? 'main.js' : entryOf(noGerman);
    const de = assertSplit(built, entry, name);
    rmSync(join(noGerman, de));
    cases.push({ name, noWasm, wasm, noGerman, de });
  }
  for (const { name, noWasm, wasm, noGerman, de } of cases) {
    let site = await serve(noWasm, { fallback: true });
    try {
      const { b, result } = await open(site.url);
      try {
        const file = wasm.split('/').pop().replace(/[.]/g, '\\.');
        assert.match(result, new RegExp(`^Consentry: http://127\\.0\\.0\\.1:\\d+/.*${file} came back as an HTML page, not WebAssembly: `), `${name}: unclear error for a .wasm answered with a page`);
        assert.match(result, /init\(config, \{ wasm: url \}\)/, `${name}: the error does not say what to do`);
        assert.equal(await b.page.locator('#consentry').count(), 0, `${name}: a banner without the .wasm`);
      } finally {
        await b.close();
      }
    } finally {
      await site.stop();
    }
    site = await serve(noGerman, { fallback: true });
    try {
      const { b, result } = await open(site.url, 'de-DE');
      try {
        assert.equal(result, 'started', `${name}: a missing language chunk must not stop the banner`);
        const reject = banner(b.page, 'section button[data-a=reject]');
        await reject.waitFor({ state: 'visible', timeout: 10_000 });
        assert.equal((await reject.innerText()).trim(), 'Reject all', `${name}: expected English when German cannot be loaded`);
        const said = b.console.filter((m) => m.type === 'error' && /^Consentry: the de texts could not be loaded, so the banner is in English/.test(m.text));
        assert.equal(said.length, 1, `${name}: no clear console error for the German chunk; console: ${JSON.stringify(b.console)}`);
        assert.ok(said[0].text.includes(de.split('/').pop()), `${name}: the error does not name the chunk ${de}: ${said[0].text}`);
      } finally {
        await b.close();
      }
    } finally {
      await site.stop();
    }
  }
});

test("a symlinked install (npm install ./pkg/npm) in Vite's dev server: the refused .wasm gives a clear error; --install-links works", async () => {
  const linked = await viteApp('vite-linked', { install: PKG });
  const dev = await viteDev(BIN.vite, linked);
  try {
    const { b, result } = await open(dev.url);
    try {
      assert.match(result, /^Consentry: could not load http:\/\/127\.0\.0\.1:\d+\/@fs\/.*consentry_bg\.wasm \(HTTP 403; .*npm install --install-links\)/, 'unclear error for a refused .wasm');
    } finally {
      await b.close();
    }
  } finally {
    await dev.stop();
  }
  const copied = await viteApp('vite-install-links', { install: PKG, flags: ['--install-links'] });
  const dev2 = await viteDev(BIN.vite, copied);
  try {
    await germanVisitor(dev2.url, 'Vite 8 dev, npm install --install-links');
  } finally {
    await dev2.stop();
  }
});
