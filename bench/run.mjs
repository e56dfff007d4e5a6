// The side-by-side benchmark: Consentry against the peers, same page, same browser, same run.
//
// Owns: serving the pages (pages.mjs) on 127.0.0.1, driving /usr/bin/chromium through
// playwright-core with a fresh profile per load, measuring, and writing bench/results.json and
// bench/RESULTS.md. It reports figures only: it never fails because something is slow.
//
// Usage: node bench/run.mjs [--runs=N] [--quick] [--peers-only] [--variants]   (cargo xtask bench builds first, then runs this)
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { CONTENDERS, VARIANTS, BASELINE, page, consentryConfig } from './pages.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const NM = path.join(BENCH, 'node_modules');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const runsArg = argv.find((a) => a.startsWith('--runs='));
const RUNS = runsArg ? Math.max(1, parseInt(runsArg.slice(7), 10) || 15) : quick ? 3 : 15;
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SETTLE_MS = 1000;
const PEER_PACKAGES = ['vanilla-cookieconsent', 'klaro', 'cookieconsent', 'posthog-js'];

// ---------------------------------------------------------------- sizes
function sizes(buf) {
  const gzip = zlib.gzipSync(buf, { level: 9 }).length;
  const brotli = zlib.brotliCompressSync(buf, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
  }).length;
  return { raw: buf.length, gzip, brotli };
}

// ---------------------------------------------------------------- server
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.html': 'text/html; charset=utf-8' };
const generated = new Map(); // path -> Buffer
for (const c of [...CONTENDERS, ...VARIANTS, BASELINE]) {
  generated.set(`/c/${c.name}/`, Buffer.from(page(`${c.label} — bench`, c.head, c.body)));
  for (const [p, text] of Object.entries(c.files)) generated.set(p, Buffer.from(text));
}
generated.set('/privacy', Buffer.from(page('Privacy', '', '')));
// The tracker micro-benchmark page: Consentry with its default tracker settings.
generated.set('/micro/consent.json', Buffer.from(consentryConfig()));
generated.set('/micro/', Buffer.from(page('micro', '<script src="/pkg/cdn/consentry.js" data-config="/micro/consent.json" defer></script>', '')));

// Where a static path lives on disk (null: not a static file).
function staticFile(p) {
  if (generated.has(p)) return { buf: generated.get(p) };
  let file = null;
  if (p.startsWith('/pkg/cdn/')) file = path.join(ROOT, p);
  else if (p.startsWith('/nm/')) {
    const pkg = p.split('/')[2];
    if (PEER_PACKAGES.includes(pkg)) file = path.join(NM, p.slice(4));
  } else if (p.startsWith('/ph/static/')) file = path.join(NM, 'posthog-js/dist', p.slice(11));
  if (!file || file.includes('..')) return null;
  try { return { buf: fs.readFileSync(file) }; } catch { return null; }
}

const batches = []; // tracker batches received: {bytes, gzip, events}
const apiCalls = []; // every non-static request: {method, path}

function serve(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  const isolate = p.startsWith('/micro/') || p.startsWith('/pkg/');
  const head = { 'cache-control': 'no-store' };
  if (isolate) Object.assign(head, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const f = staticFile(p);
      if (f) {
        const ext = p.endsWith('/') ? '.html' : path.extname(p) || '.html';
        res.writeHead(200, { ...head, 'content-type': TYPES[ext] || 'application/octet-stream', 'content-length': f.buf.length });
        return res.end(req.method === 'HEAD' ? undefined : f.buf);
      }
    }
    apiCalls.push({ method: req.method, path: p });
    if (p === '/batch/' || p === '/capture/' || p === '/e/') {
      let text = body.toString();
      // Accept plain JSON, and gzip bodies if a tracker compresses them.
      if (body[0] === 0x1f && body[1] === 0x8b) text = zlib.gunzipSync(body).toString();
      try {
        const j = JSON.parse(text);
        const events = Array.isArray(j.batch) ? j.batch.length : Array.isArray(j) ? j.length : 1;
        batches.push({ bytes: body.length, gzip: sizes(Buffer.from(text)).gzip, events, body: text, compressed: text.length !== body.length, type: req.headers['content-type'] || '' });
      } catch { /* not JSON: not counted */ }
      res.writeHead(200, { ...head, 'content-type': 'application/json' });
      return res.end('{"status":1}');
    }
    if (p === '/consentry/receipts') {
      res.writeHead(200, { ...head, 'content-type': 'application/json' });
      return res.end('{"accepted":[],"duplicates":[]}');
    }
    if (p.startsWith('/ph/')) {
      // PostHog's API host: answer like an empty project (no flags, no remote config).
      const js = p.endsWith('.js');
      res.writeHead(200, { ...head, 'content-type': js ? 'text/javascript' : 'application/json' });
      return res.end(js ? '' : '{}');
    }
    res.writeHead(404, { ...head, 'content-type': 'text/plain' });
    res.end('not found');
  });
}

// ---------------------------------------------------------------- one load
function initScript(banner) {
  return `(() => {
  const r = window.__bench = { visible: null, longtasks: [], ready: null };
  document.addEventListener('consentry:ready', () => { r.ready = performance.now(); });
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) r.longtasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) {}
  ${banner ? '' : 'return;'}
  const find = () => { try { return ${banner || 'null'}; } catch (e) { return null; } };
  const shown = (el) => {
    if (!el || !el.isConnected) return false;
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const b = el.getBoundingClientRect();
    return b.width > 0 && b.height > 0;
  };
  const tick = () => {
    if (shown(find())) { r.visible = performance.now(); return; }
    if (performance.now() < 20000) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;
}

async function load(origin, c) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consentry-bench-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport: { width: 1280, height: 800 } });
  try {
    await ctx.addInitScript(initScript(c.banner));
    const pg = ctx.pages()[0] || (await ctx.newPage());
    const requests = [];
    const errors = [];
    pg.on('request', (r) => requests.push({ url: r.url(), type: r.resourceType(), method: r.method() }));
    pg.on('pageerror', (e) => errors.push(String(e && e.message)));
    pg.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    const cdp = await ctx.newCDPSession(pg);
    await cdp.send('Performance.enable');
    await pg.goto(`${origin}/c/${c.name}/`, { waitUntil: 'load' });
    if (c.banner) {
      await pg.waitForFunction(() => window.__bench.visible !== null, null, { timeout: 10000, polling: 50 }).catch(() => {});
    }
    // Let deferred and idle work finish (lazy chunks, idle callbacks) before reading the totals.
    await pg.waitForTimeout(SETTLE_MS);
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    const page = await pg.evaluate(async () => {
      const nav = performance.getEntriesByType('navigation')[0];
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      let idb = 0;
      try { idb = (await indexedDB.databases()).length; } catch (e) {}
      return {
        visible: window.__bench.visible,
        ready: window.__bench.ready,
        resources: performance.getEntriesByType('resource').map((e) => [new URL(e.name).pathname, Math.round(e.startTime), Math.round(e.responseEnd)]),
        longtasks: window.__bench.longtasks,
        dcl: nav ? nav.domContentLoadedEventEnd : null,
        load: nav ? nav.loadEventEnd : null,
        fcp: fcp ? fcp.startTime : null,
        local: Object.keys(localStorage),
        session: Object.keys(sessionStorage),
        idb,
      };
    });
    const cookies = await ctx.cookies();
    const u0 = new URL(origin);
    const paths = requests.filter((r) => !r.url.startsWith('data:')).map((r) => {
      const u = new URL(r.url);
      return { ...r, path: u.origin === u0.origin ? u.pathname : r.url };
    });
    const doc = `/c/${c.name}/`;
    const others = paths.filter((r) => r.path !== doc && !c.own.includes(r.path));
    const shipped = [...new Set(paths.filter((r) => r.path !== doc && staticFile(r.path)).map((r) => r.path))];
    return {
      visibleMs: page.visible,
      readyMs: page.ready,
      resources: page.resources,
      dclMs: page.dcl,
      loadMs: page.load,
      fcpMs: page.fcp,
      scriptMs: (m.ScriptDuration || 0) * 1000,
      taskMs: (m.TaskDuration || 0) * 1000,
      layoutMs: (m.LayoutDuration || 0) * 1000,
      styleMs: (m.RecalcStyleDuration || 0) * 1000,
      longTasks: page.longtasks.length,
      longTaskMs: page.longtasks.reduce((a, t) => a + t[1], 0),
      cookies: cookies.map((k) => k.name),
      storage: [...page.local.map((k) => 'local:' + k), ...page.session.map((k) => 'session:' + k)].concat(page.idb ? [`indexedDB:${page.idb}`] : []),
      requests: others.map((r) => `${r.method} ${r.path}`),
      shipped,
      errors,
    };
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- tracker micro-benchmark
async function micro(origin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consentry-bench-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const out = { available: false, reason: '', captureUs: null, captureUsSpread: null, batchGzipPerEvent: null, batchRawPerEvent: null, batches: 0, verify: null };
  try {
    const pg = ctx.pages()[0] || (await ctx.newPage());
    await pg.goto(`${origin}/micro/`, { waitUntil: 'load' });
    const ready = await pg.waitForFunction(() => !!window.Consentry, null, { timeout: 10000 }).then(() => true, () => false);
    if (!ready) { out.reason = 'window.Consentry never appeared'; return out; }
    out.isolated = await pg.evaluate(() => self.crossOriginIsolated);
    await pg.evaluate(() => window.Consentry.acceptAll());
    await pg.waitForTimeout(300);
    batches.length = 0;
    // A typical event, as a site would send it on reading an article.
    await pg.evaluate(() => {
      const slugs = ['the-quiet-harbour', 'winter-ferries', 'a-lighthouse-keeper', 'maps-and-gulls', 'four-tables'];
      for (let i = 0; i < 30; i++) window.Consentry.capture('article_read', { slug: slugs[i % 5], depth: (i * 37) % 100, section: i % 3 ? 'stories' : 'essays' });
    });
    const t0 = Date.now();
    while (Date.now() - t0 < 7000 && batches.filter((b) => b.body.includes('article_read')).length === 0) await pg.waitForTimeout(100);
    await pg.waitForTimeout(1000); // the rest of the 30 events
    const got = batches.filter((b) => b.body.includes('article_read'));
    if (got.length === 0) { out.reason = 'capture() sent nothing within 7 s after acceptAll() (tracker not available yet)'; }
    else {
      out.available = true;
      const full = got.filter((b) => b.events === Math.max(...got.map((x) => x.events)));
      const ev = full.reduce((a, b) => a + b.events, 0);
      out.batches = got.length;
      out.eventsPerBatch = full[0].events;
      out.batchGzipPerEvent = full.reduce((a, b) => a + b.gzip, 0) / ev;
      out.batchRawPerEvent = full.reduce((a, b) => a + Buffer.byteLength(b.body), 0) / ev;
      out.wirePerEvent = full.reduce((a, b) => a + b.bytes, 0) / ev;
      out.bodyCompressed = full.some((b) => b.compressed);
      out.sampleBatch = full[0].body.slice(0, 2000);
      // Cost per call: blocks of calls timed with performance.now() (5 µs resolution when isolated).
      const r = await pg.evaluate(() => {
        const C = window.Consentry;
        const props = { slug: 'the-quiet-harbour', depth: 75, section: 'stories' };
        for (let i = 0; i < 500; i++) C.capture('article_read', props); // warm-up
        const per = [];
        for (let b = 0; b < 40; b++) {
          const t = performance.now();
          for (let i = 0; i < 250; i++) C.capture('article_read', props);
          per.push(((performance.now() - t) * 1000) / 250);
        }
        return per;
      });
      out.captureUs = median(r);
      out.captureUsSpread = [quantile(r, 0.25), quantile(r, 0.75)];
    }
    // Evidence verification in Chromium: the visitor's own log, verified by the module.
    const v = await pg.evaluate(() => {
      const C = window.Consentry;
      for (let i = 0; i < 48; i++) C.setConsent({ analytics: i % 2 === 0 });
      const log = C.evidence();
      const n = Array.isArray(log) ? log.length : (log && Array.isArray(log.receipts) ? log.receipts.length : 0);
      if (!n) return { n: 0 };
      const rounds = 20;
      const t = performance.now();
      let res;
      for (let i = 0; i < rounds; i++) res = C.verifyEvidence();
      const ms = performance.now() - t;
      return { n, ms, rounds, result: JSON.stringify(res).slice(0, 300) };
    }).catch((e) => ({ n: 0, error: String(e && e.message) }));
    if (v.n) out.verify = { receipts: v.n, perSecond: (v.n * v.rounds) / (v.ms / 1000), result: v.result };
    else out.verifyReason = v.error || 'no receipts in Consentry.evidence() after 48 choices';
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------- statistics and output
function quantile(xs, q) {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
}
const median = (xs) => quantile(xs, 0.5);
const KB = (b) => (b / 1024).toFixed(1);
const ms = (x) => (x === null ? '–' : x < 10 ? x.toFixed(1) : Math.round(x).toString());
const ratio = (a, b) => (a === null || b === null || !b ? '–' : `×${(a / b).toFixed(2)}`);
function mode(list) {
  const n = new Map();
  for (const x of list) n.set(x, (n.get(x) || 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

function summarise(c, runs) {
  const files = [...new Set(runs.flatMap((r) => r.shipped))].sort();
  const size = { raw: 0, gzip: 0, brotli: 0, files: {} };
  for (const f of files) {
    const s = sizes(staticFile(f).buf);
    size.files[f] = s;
    size.raw += s.raw; size.gzip += s.gzip; size.brotli += s.brotli;
  }
  const vis = runs.map((r) => r.visibleMs);
  const before = (k) => runs.map((r) => r[k].length);
  return {
    name: c.name,
    label: c.label,
    runs: runs.length,
    size,
    visible: c.banner ? { median: median(vis), p25: quantile(vis, 0.25), p75: quantile(vis, 0.75), min: quantile(vis, 0), max: quantile(vis, 1), missed: vis.filter((v) => v === null).length } : null,
    dcl: median(runs.map((r) => r.dclMs)),
    fcp: median(runs.map((r) => r.fcpMs)),
    script: { median: median(runs.map((r) => r.scriptMs)), p25: quantile(runs.map((r) => r.scriptMs), 0.25), p75: quantile(runs.map((r) => r.scriptMs), 0.75) },
    task: median(runs.map((r) => r.taskMs)),
    longTasks: { median: median(runs.map((r) => r.longTasks)), max: Math.max(...runs.map((r) => r.longTasks)), loadsWithAny: runs.filter((r) => r.longTasks > 0).length, ms: median(runs.map((r) => r.longTaskMs)) },
    ready: median(runs.map((r) => r.readyMs)),
    timeline: Object.fromEntries(c.own.map((f) => [f, median(runs.map((r) => { const e = (r.resources || []).find((x) => x[0] === f); return e ? e[2] : null; }))])),
    beforeChoice: {
      cookies: median(before('cookies')), storage: median(before('storage')), requests: median(before('requests')),
      examples: { cookies: mode(runs.map((r) => r.cookies.join(' '))), storage: mode(runs.map((r) => r.storage.join(' '))), requests: mode(runs.map((r) => r.requests.join(' '))) },
    },
    errors: [...new Set(runs.flatMap((r) => r.errors))].slice(0, 10),
  };
}

function markdown(res) {
  const me = res.contenders[0];
  const peers = res.contenders.slice(1).filter((c) => !c.name.startsWith('consentry'));
  const L = [];
  L.push(`| | ${res.contenders.map((c) => c.label).join(' | ')} |`);
  L.push(`|---|${res.contenders.map(() => '---').join('|')}|`);
  L.push(`| shipped JS+CSS+Wasm KB raw / gzip / brotli | ${res.contenders.map((c) => `${KB(c.size.raw)} / ${KB(c.size.gzip)} / ${KB(c.size.brotli)}`).join(' | ')} |`);
  L.push(`| banner visible after navigation start, ms median (p25–p75) | ${res.contenders.map((c) => (c.visible ? `${ms(c.visible.median)} (${ms(c.visible.p25)}–${ms(c.visible.p75)})${c.visible.missed ? ` [${c.visible.missed} missed]` : ''}` : '–')).join(' | ')} |`);
  L.push(`| main-thread script ms, median (p25–p75) | ${res.contenders.map((c) => `${ms(c.script.median)} (${ms(c.script.p25)}–${ms(c.script.p75)})`).join(' | ')} |`);
  L.push(`| long tasks per load, median (loads with any, of ${res.environment.runs}) | ${res.contenders.map((c) => `${c.longTasks.median} (${c.longTasks.loadsWithAny})`).join(' | ')} |`);
  L.push(`| cookies / storage keys / requests before any choice | ${res.contenders.map((c) => `${c.beforeChoice.cookies} / ${c.beforeChoice.storage} / ${c.beforeChoice.requests}`).join(' | ')} |`);
  if (me.name !== 'consentry') return L.join('\n');
  L.push('');
  L.push(`Consentry's load, medians: ${Object.entries(me.timeline).map(([f, t]) => `${f.split('/').pop()} received at ${ms(t)} ms`).join(', ')}; \`consentry:ready\` at ${ms(me.ready)} ms; banner visible at ${ms(me.visible.median)} ms (page alone: DOMContentLoaded ${ms(res.baseline.dcl)} ms, first contentful paint ${ms(res.baseline.fcp)} ms).`);
  L.push('');
  L.push(`Consentry's figures as ratios to each peer's, same run (below ×1.00 is better):`);
  L.push('');
  L.push(`| Consentry ÷ | ${peers.map((c) => c.label).join(' | ')} |`);
  L.push(`|---|${peers.map(() => '---').join('|')}|`);
  L.push(`| shipped brotli | ${peers.map((c) => ratio(me.size.brotli, c.size.brotli)).join(' | ')} |`);
  L.push(`| shipped gzip | ${peers.map((c) => ratio(me.size.gzip, c.size.gzip)).join(' | ')} |`);
  L.push(`| banner visible (median) | ${peers.map((c) => ratio(me.visible && me.visible.median, c.visible && c.visible.median)).join(' | ')} |`);
  L.push(`| main-thread script (median) | ${peers.map((c) => ratio(me.script.median, c.script.median)).join(' | ')} |`);
  return L.join('\n');
}

function microMarkdown(mi, native) {
  const L = ['| tracker and evidence micro-benchmarks | figure | target |', '|---|---|---|'];
  if (mi && mi.available) {
    L.push(`| \`Consentry.capture()\` cost per call, median (p25–p75) | ${mi.captureUs.toFixed(2)} µs (${mi.captureUsSpread.map((x) => x.toFixed(2)).join('–')})${mi.isolated ? '' : ' (timer not isolated: 100 µs resolution)'} | ≤ 5 µs |`);
    L.push(`| bytes per event in a batch of ${mi.eventsPerBatch}: gzip -9 of the JSON (JSON as sent; the request body is ${mi.bodyCompressed ? 'gzip-compressed' : 'sent uncompressed'}) | ${mi.batchGzipPerEvent.toFixed(0)} B (${mi.batchRawPerEvent.toFixed(0)} B; ${mi.wirePerEvent.toFixed(0)} B on the wire) | ≤ 200 B gzip |`);
  } else {
    const why = (mi && mi.reason) || 'not run';
    L.push(`| \`Consentry.capture()\` cost per call | not available: ${why} | ≤ 5 µs |`);
    L.push(`| bytes per event in a batch, gzip | not available: ${why} | ≤ 200 B gzip |`);
  }
  const n = (x) => Math.round(x).toLocaleString('en');
  if (native && native.chainOk) {
    L.push(`| receipts hashed per second, native (\`Receipt::compute_hash\`, release build) | ${n(native.hashedPerSecond)} | – |`);
    L.push(`| receipts verified per second, native (\`verify_chain\` over a chain of ${native.receipts}) | ${n(native.verifiedPerSecond)} | – |`);
  } else {
    L.push(`| receipts hashed and verified per second, native | not available: ${native ? 'the test chain did not verify' : 'run through \`cargo xtask bench\`'} | – |`);
  }
  if (mi && mi.verify) L.push(`| receipts verified per second in Chromium (\`Consentry.verifyEvidence()\` on the visitor's log of ${mi.verify.receipts}, storage read included) | ${n(mi.verify.perSecond)} | – |`);
  else L.push(`| receipts verified per second in Chromium | not available: ${(mi && mi.verifyReason) || 'not run'} | – |`);
  return L.join('\n');
}

// ---------------------------------------------------------------- main
async function main() {
  const peersOnly = argv.includes('--peers-only');
  if (!peersOnly && !fs.existsSync(path.join(ROOT, 'pkg/cdn/consentry.js'))) {
    console.error('pkg/cdn/consentry.js is missing: run `cargo xtask build` (or `cargo xtask bench`, which builds).');
    process.exit(1);
  }
  // Serve one snapshot of the build for the whole run, so that a rebuild meanwhile changes nothing.
  if (!peersOnly) {
    for (const f of ['consentry.js', 'consentry_bg.wasm']) generated.set(`/pkg/cdn/${f}`, fs.readFileSync(path.join(ROOT, 'pkg/cdn', f)));
  }
  const contenders = CONTENDERS.filter((c) => !peersOnly || c.name !== 'consentry')
    .concat(argv.includes('--variants') && !peersOnly ? VARIANTS : []);
  const server = http.createServer(serve);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const all = [BASELINE, ...contenders];
  const runs = Object.fromEntries(all.map((c) => [c.name, []]));
  const started = Date.now();
  const loadStart = os.loadavg()[0];
  const version = (p) => JSON.parse(fs.readFileSync(path.join(NM, p, 'package.json'))).version;
  const chromiumVersion = await (async () => {
    const b = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
    const v = b.version();
    await b.close();
    return v;
  })();
  console.error(`Chromium ${chromiumVersion}, ${os.cpus().length} cores; ${RUNS} fresh-profile loads per contender, interleaved; serving ${origin}`);
  // One discarded load per contender first: the first launch of a run is slower (cold disk caches).
  for (const c of all) await load(origin, c);
  for (let i = 0; i < RUNS; i++) {
    // Rotate the order each round so that no contender always goes first.
    const order = all.map((_, k) => all[(k + i) % all.length]);
    for (const c of order) {
      if (c === BASELINE && i % 3 !== 0) continue; // the page alone needs fewer loads
      runs[c.name].push(await load(origin, c));
    }
    process.stderr.write(`  round ${i + 1}/${RUNS} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  const mi = peersOnly ? { available: false, reason: 'run with --peers-only' } : await micro(origin).catch((e) => ({ available: false, reason: String(e && e.message) }));
  server.close();
  const base = summarise(BASELINE, runs[BASELINE.name]);
  const res = {
    date: new Date().toISOString(),
    environment: { loadavg: [loadStart, os.loadavg()[0]].map((x) => Math.round(x * 100) / 100), chromium: chromiumVersion, cores: os.cpus().length, cpu: os.cpus()[0] && os.cpus()[0].model, node: process.version, runs: RUNS, seconds: Math.round((Date.now() - started) / 1000) },
    versions: Object.fromEntries(PEER_PACKAGES.map((p) => [p, version(p)])),
    baseline: { dcl: base.dcl, fcp: base.fcp, script: base.script, longTasks: base.longTasks },
    contenders: contenders.map((c) => summarise(c, runs[c.name])),
    micro: mi,
    native: (() => { try { return JSON.parse(process.env.CONSENTRY_BENCH_NATIVE || 'null'); } catch { return null; } })(),
    raw: runs,
  };
  const table = markdown(res);
  const microTable = microMarkdown(mi, res.native);
  let breakdown = '';
  try {
    const w = JSON.parse(execFileSync('node', [path.join(BENCH, 'wasm-size.mjs'), '--json', '--top=10'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    res.wasmBreakdown = { shippedBytes: w.shippedBytes, shippedBrotli: w.shippedBrotli, sections: w.sections, groups: w.groups.slice(0, 25), top: w.top };
    const sec = w.sections.filter((x) => x.brotli !== null && x.brotli > 500);
    breakdown = `## Where Consentry's .wasm bytes go

\`node bench/wasm-size.mjs\` (the build's module optimised as shipped, names kept for the count): ${w.shippedBytes} B, ${w.shippedBrotli} B brotli.
Sections, each compressed alone: ${sec.map((x) => `${x.label} ${x.bytes} B (${x.brotli} B brotli)`).join(', ')}.

| function bytes by crate/module | bytes |
|---|---|
${w.groups.slice(0, 12).map((g) => `| ${g.group.replace(/\|/g, '\\|')} | ${g.bytes} |`).join('\n')}

| biggest functions | bytes |
|---|---|
${w.top.map((f) => `| \`${f.name.slice(0, 90).replace(/\|/g, '\\|')}\` | ${f.bytes} |`).join('\n')}
`;
  } catch (e) { breakdown = ''; }
  fs.writeFileSync(path.join(BENCH, 'results.json'), JSON.stringify(res, null, 2) + '\n');
  const md = `# Benchmark results

Generated by \`cargo xtask bench\` (bench/run.mjs) on ${res.date.slice(0, 10)}: headless Chromium ${chromiumVersion},
${res.environment.cores} cores (1-minute load average ${res.environment.loadavg.join(' at the start, ')} at the end: other work on
the machine widens the spreads), ${RUNS} fresh-profile loads per contender, interleaved, same article page, same run.
Each contender is set up as its quick start says, with a "necessary" and an "analytics" category where it has
them (see bench/pages.mjs); Consentry is the script-tag build \`pkg/cdn/consentry.js\` with \`data-config\`.
posthog-js has no banner: it is here as the tracker a site would add, with \`opt_out_capturing_by_default: true\` and
\`person_profiles: 'identified_only'\`, its api_host answered locally like an empty project. vanilla-cookieconsent runs
with \`hideFromBots: false\`: by default it hides its banner from any browser with \`navigator.webdriver\` set, as here.

${table}

How each figure is taken:
- **shipped**: every JS, CSS, Wasm and config file the page loaded for the contender (its set-up file included),
  each compressed on its own (gzip -9, brotli q11); KB = 1024 B.
- **banner visible**: \`performance.now()\` at the first animation frame in which the banner element is connected,
  passes \`checkVisibility({opacityProperty, visibilityProperty})\` and has a non-zero box. The page alone
  (no banner, no script) reaches DOMContentLoaded at ${ms(base.dcl)} ms and first contentful paint at ${ms(base.fcp)} ms (medians).
- **main-thread script**: CDP \`Performance.getMetrics\` ScriptDuration after the load has settled (load event,
  banner shown, +${SETTLE_MS / 1000} s); the page alone with the measuring script measures ${ms(base.script.median)} ms.
  **Long tasks**: \`PerformanceObserver\` entries of type longtask (> 50 ms).
- **before any choice**: cookies in the profile, localStorage/sessionStorage keys and IndexedDB databases, and
  requests other than the page and the contender's own files, all read after the load settled, nothing clicked.

${microTable}

${breakdown}
Raw figures of every load: bench/results.json.
`;
  fs.writeFileSync(path.join(BENCH, 'RESULTS.md'), md);
  console.log(table);
  console.log('');
  console.log(microTable);
  for (const c of res.contenders) {
    if (c.errors.length) console.error(`note: ${c.label} console errors: ${c.errors.join(' | ')}`);
    if (c.beforeChoice.requests) console.error(`note: ${c.label} requests before any choice: ${c.beforeChoice.examples.requests}`);
  }
  console.error(`Wrote bench/results.json and bench/RESULTS.md in ${res.environment.seconds} s.`);
}

main().catch((e) => { console.error(e); process.exit(1); });
