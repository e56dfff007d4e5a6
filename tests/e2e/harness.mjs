// Shared rig for the end-to-end tests (node:test files in tests/e2e/).
//
// Owns: starting the demo server with its collector on a free port and a fresh database,
// giving each test a fresh browser context in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core; one process per test file), recording requests, reading the
// collector's stats, running axe-core, and finding the banner inside its shadow root. Must never:
// reuse a context (cookies, storage, cache) or a database between calls, talk to anything but
// 127.0.0.1, or decide a test's outcome itself (it only observes).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
export const XTASK = join(TARGET, 'debug', process.platform === 'win32' ? 'xtask.exe' : 'xtask');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/// Every path the collector answers on; a request to any of these is "a request to the collector".
export const COLLECTOR_PATHS = ['/batch', '/capture', '/e/', '/consentry/', '/collector/'];

/// Spawns `xtask serve --port N --db FILE` and resolves once it printed its URL.
export async function startServer({ port = 0, db } = {}) {
  if (!existsSync(XTASK)) {
    throw new Error(`${XTASK} is missing: build it first (cargo build -p xtask, or run cargo xtask test)`);
  }
  let tmp = null;
  if (!db) {
    tmp = mkdtempSync(join(tmpdir(), 'consentry-db-'));
    db = join(tmp, 'collector.sqlite');
  }
  const proc = spawn(XTASK, ['serve', '--port', String(port), '--db', db], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`xtask serve printed no URL within 20 s; stderr:\n${stderr}`)), 20000);
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      const m = /^http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(line.trim());
      if (m) { clearTimeout(timer); res(line.trim()); }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`xtask serve exited (code ${code}, signal ${signal}) before printing its URL; stderr:\n${stderr}`));
    });
  });
  const actualPort = Number(new URL(url).port);
  let stopped = false;
  return {
    url,
    port: actualPort,
    db,
    proc,
    get stderr() { return stderr; },
    async stop() {
      if (!stopped) {
        stopped = true;
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        const r = await exited;
        clearTimeout(timer);
        if (tmp) rmSync(tmp, { recursive: true, force: true });
        return r;
      }
    },
  };
}

const CHROME_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// One Chromium process per test file, shared by every launch() without extraArgs: each launch
// still gets its own fresh context (own cookies, storage and cache, like a new profile), but
// starting Chromium once instead of per test saves about a second per test. The process is
// closed shortly after its last context closes, so the test file can exit.
let shared = null; // { browser: Promise<Browser>, open: number, timer }

function sharedBrowser() {
  if (!shared) {
    shared = { browser: chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS }), open: 0, timer: null };
  }
  clearTimeout(shared.timer);
  shared.open++;
  const mine = shared;
  return {
    browser: mine.browser,
    release() {
      mine.open--;
      if (mine.open === 0) {
        mine.timer = setTimeout(() => {
          if (shared === mine) shared = null;
          mine.browser.then((b) => b.close()).catch(() => {});
        }, 1000);
      }
    },
  };
}

/// Headless Chromium with a fresh context (nothing stored from before). `gpc` makes the page
/// see `navigator.globalPrivacyControl === true` and every request carry `Sec-GPC: 1`.
/// `extraArgs` (Chrome command-line flags) get a browser process of their own, in a fresh
/// profile directory.
export async function launch({ gpc = false, colorScheme, viewport, locale, extraArgs = [], reducedMotion } = {}) {
  const opts = { viewport: viewport || { width: 1280, height: 800 } };
  if (colorScheme) opts.colorScheme = colorScheme;
  if (locale) opts.locale = locale;
  if (reducedMotion) opts.reducedMotion = reducedMotion;
  let context;
  let release;
  if (extraArgs.length) {
    const profile = mkdtempSync(join(tmpdir(), 'consentry-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      ...opts,
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROME_ARGS, ...extraArgs],
    });
    release = () => rmSync(profile, { recursive: true, force: true });
  } else {
    const s = sharedBrowser();
    try {
      context = await (await s.browser).newContext(opts);
    } catch (e) {
      s.release();
      throw e;
    }
    release = s.release;
  }
  if (gpc) {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
    });
    await context.setExtraHTTPHeaders({ 'Sec-GPC': '1' });
  }
  const page = context.pages()[0] || (await context.newPage());
  const consoleMessages = [];
  const pageErrors = [];
  const track = (p) => {
    p.on('console', (m) => consoleMessages.push({ type: m.type(), text: m.text() }));
    p.on('pageerror', (e) => pageErrors.push(String(e)));
  };
  track(page);
  context.on('page', track);
  let closed = false;
  return {
    context,
    page,
    console: consoleMessages,
    pageErrors,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      release();
    },
  };
}

/// Whether a request's body is gzip (the tracker compresses its batches where it can).
export function isGzip(rq) {
  const b = rq.postDataBuffer();
  return !!b && b[0] === 0x1f && b[1] === 0x8b;
}

/// A request's body as text, unpacked when it is gzip.
export function bodyText(rq) {
  return isGzip(rq) ? gunzipSync(rq.postDataBuffer()).toString('utf8') : rq.postData();
}

/// Records every request the page (and its context) makes whose path starts with `pathPrefix`
/// (a string or an array of strings). Returns a live array of {method, url, path, body, gzip,
/// bytes}: `body` is the text (unpacked when gzip), `bytes` the size on the wire.
export function requestsTo(page, pathPrefix = COLLECTOR_PATHS) {
  const prefixes = Array.isArray(pathPrefix) ? pathPrefix : [pathPrefix];
  const seen = [];
  page.context().on('request', (rq) => {
    let path;
    try { path = new URL(rq.url()).pathname; } catch { return; }
    if (prefixes.some((p) => path.startsWith(p))) {
      seen.push({ method: rq.method(), url: rq.url(), path, body: bodyText(rq), gzip: isGzip(rq), bytes: rq.postDataBuffer()?.length ?? 0 });
    }
  });
  return seen;
}

/// The collector's counters: {receipts, events, rejected}.
export async function stats(url) {
  const r = await fetch(new URL('/collector/stats', url));
  if (!r.ok) throw new Error(`GET /collector/stats answered ${r.status}`);
  return r.json();
}

/// Runs axe-core (WCAG 2.0/2.1/2.2 A and AA) on the page, or on `context` (an axe context such
/// as '#consentry' or {include: [...]}); returns the violations (an empty array is a pass).
export async function axe(page, context) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!has) await page.addScriptTag({ path: join(ROOT, 'node_modules/axe-core/axe.min.js') });
  return page.evaluate(async (ctx) => {
    const opts = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } };
    const r = ctx ? await window.axe.run(ctx, opts) : await window.axe.run(document, opts);
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
    }));
  }, context ?? null);
}

/// Readable one-line-per-node summary of axe violations for assertion messages.
export function formatViolations(violations) {
  return violations
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${n.summary}`).join('\n'))
    .join('\n');
}

/// A locator inside the banner's shadow root (Playwright's CSS engine pierces open shadow roots).
/// `banner(page)` is the first layer; `banner(page, 'dialog')` the preferences, etc.
export function banner(page, selector = 'section') {
  return page.locator('#consentry').locator(selector);
}

/// The element that has focus, following shadow roots down: a short description such as
/// `button[data-a=reject] "Reject all"`, or null.
export async function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    if (!a || a === document.body) return null;
    const attrs = ['data-a', 'data-p', 'id', 'role'].filter((k) => a.hasAttribute(k)).map((k) => `[${k}=${a.getAttribute(k)}]`).join('');
    return { tag: a.tagName.toLowerCase(), action: a.getAttribute('data-a'), purpose: a.getAttribute('data-p'), desc: `${a.tagName.toLowerCase()}${attrs} ${JSON.stringify((a.textContent || a.getAttribute('aria-label') || '').trim())}`, inBanner: !!a.getRootNode().host && a.getRootNode().host.id === 'consentry', inDialog: !!a.closest('dialog') };
  });
}

/// Cookies, localStorage keys and sessionStorage keys the page can see.
export async function storageState(page) {
  return page.evaluate(() => ({
    cookie: document.cookie,
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
  }));
}

/// Runs `fn` with a fresh browser (`launch(opts)`) and always closes it.
export async function withBrowser(opts, fn) {
  const b = await launch(opts);
  try { return await fn(b); } finally { await b.close(); }
}

/// Polls `fn` every 100 ms until it returns something truthy (and returns that), or fails after
/// `ms` naming `what` and the last value seen.
export async function until(fn, what, ms = 15_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
