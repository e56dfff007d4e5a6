// Where the bytes of the .wasm go: section sizes, the biggest functions, and function bytes grouped
// by crate and module (a small stand-in for `twiggy top`, no install needed).
//
// Owns: reading a wasm binary that still has its name section and printing the breakdown.
// Never changes the module. Usage:
//   node bench/wasm-size.mjs [FILE.wasm] [--top=N] [--depth=D] [--json]
// Without FILE it reads target/pkg-work/consentry_bg.named.wasm, which `CONSENTRY_NAMED=1 cargo
// xtask build` writes: the shipped module (wasm-bindgen's output through the same wasm-opt passes)
// with its function names kept, so the figures are those of what ships.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const opt = (k, d) => { const a = argv.find((x) => x.startsWith(`--${k}=`)); return a ? parseInt(a.split('=')[1], 10) : d; };
const TOP = opt('top', 25);
const DEPTH = opt('depth', 2);
const asJson = argv.includes('--json');
let file = argv.find((a) => !a.startsWith('--'));
if (!file) {
  file = path.join(ROOT, process.env.CARGO_TARGET_DIR || 'target', 'pkg-work/consentry_bg.named.wasm');
  if (!fs.existsSync(file)) { console.error(`No FILE given and no ${file}: run \`CONSENTRY_NAMED=1 cargo xtask build\` first.`); process.exit(1); }
}
const buf = fs.readFileSync(file);

const brotliOf = (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
function leb(b, o) { let r = 0, s = 0, x; do { x = b[o++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return [r, o]; }
function name(b, o) { const [n, p] = leb(b, o); return [b.subarray(p, p + n).toString('utf8'), p + n]; }

const SECTIONS = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'];
const sections = [];
let importedFuncs = 0;
const bodies = []; // size of each defined function body
const names = new Map();
let dataBytes = 0;
let o = 8;
while (o < buf.length) {
  const id = buf[o];
  const [size, p] = leb(buf, o + 1);
  const end = p + size;
  let label = SECTIONS[id] || `#${id}`;
  if (id === 0) {
    const [n, q] = name(buf, p);
    label = `custom "${n}"`;
    if (n === 'name') {
      let r = q;
      while (r < end) {
        const sub = buf[r];
        const [len, s] = leb(buf, r + 1);
        if (sub === 1) {
          let [count, t] = leb(buf, s);
          for (let i = 0; i < count; i++) { let idx, nm; [idx, t] = leb(buf, t); [nm, t] = name(buf, t); names.set(idx, nm); }
        }
        r = s + len;
      }
    }
  } else if (id === 2) {
    let [count, t] = leb(buf, p);
    for (let i = 0; i < count; i++) {
      let kind; [, t] = name(buf, t); [, t] = name(buf, t); kind = buf[t++];
      if (kind === 0) { [, t] = leb(buf, t); importedFuncs++; }
      else if (kind === 1) { t++; const f = buf[t++]; [, t] = leb(buf, t); if (f & 1) [, t] = leb(buf, t); }
      else if (kind === 2) { const f = buf[t++]; [, t] = leb(buf, t); if (f & 1) [, t] = leb(buf, t); }
      else if (kind === 3) { t += 2; }
      else if (kind === 4) { t++; [, t] = leb(buf, t); }
    }
  } else if (id === 10) {
    let [count, t] = leb(buf, p);
    for (let i = 0; i < count; i++) { const [len, s] = leb(buf, t); bodies.push(s - t + len); t = s + len; }
  } else if (id === 11) {
    dataBytes = size;
  }
  sections.push({ label, bytes: end - o, brotli: id === 0 ? null : brotliOf(buf.subarray(o, end)) });
  o = end;
}

// Rust legacy mangling: _ZN<len><ident>...17h<hash>E -> path segments.
function demangle(n) {
  if (!n.startsWith('_ZN')) return n.replace(/\[[0-9a-f]{16}\]/g, '').replace(/::h[0-9a-f]{16}$/, '');
  const segs = [];
  let i = 3;
  while (i < n.length && n[i] !== 'E') {
    let j = i; while (/[0-9]/.test(n[j])) j++;
    const len = parseInt(n.slice(i, j), 10);
    if (!len) break;
    segs.push(n.slice(j, j + len));
    i = j + len;
  }
  if (segs.length && /^h[0-9a-f]{16}$/.test(segs[segs.length - 1])) segs.pop();
  return segs.map((s) => s.replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ').replace(/\$u7b\$/g, '{').replace(/\$u7d\$/g, '}')
    .replace(/\$RF\$/g, '&').replace(/\$C\$/g, ',').replace(/\$BP\$/g, '*').replace(/\.\./g, '::').replace(/^_/, '')).join('::');
}
// The crate/module a function is charged to: the first path segments, with trait impls `<T as Tr>` charged to T.
function group(full) {
  let s = full;
  const m = /^<(?:&(?:mut )?)?([^ <>]+)(?:<[^>]*>)?(?: as [^>]+)?>::/.exec(s);
  if (m) s = m[1] + '::' + s.slice(m[0].length);
  if (s.startsWith('<')) return '<generic impl>';
  const parts = s.split('::');
  if (/ shim$/.test(s)) return 'export shims (their callees inlined)';
  if (parts.length === 1) return '(no path: wasm-bindgen exports, memcpy and friends)';
  return parts.slice(0, Math.min(DEPTH, parts.length - 1)).join('::');
}

const fns = bodies.map((b, i) => ({ name: demangle(names.get(i + importedFuncs) || `func[${i + importedFuncs}]`), bytes: b }));
const byGroup = new Map();
for (const f of fns) { const g = group(f.name); byGroup.set(g, (byGroup.get(g) || 0) + f.bytes); }
const total = buf.length;
const stripped = (() => { // what ships: the same module without custom sections
  const parts = [buf.subarray(0, 8)];
  let q = 8;
  while (q < buf.length) { const [size, p] = leb(buf, q + 1); if (buf[q] !== 0) parts.push(buf.subarray(q, p + size)); q = p + size; }
  return Buffer.concat(parts);
})();
const br = zlib.brotliCompressSync(stripped, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const out = {
  file, bytes: total, shippedBytes: stripped.length, shippedBrotli: br, functions: fns.length, dataBytes,
  sections, groups: [...byGroup.entries()].sort((a, b) => b[1] - a[1]).map(([g, b]) => ({ group: g, bytes: b })),
  top: [...fns].sort((a, b) => b.bytes - a.bytes).slice(0, TOP),
};
if (asJson) { console.log(JSON.stringify(out, null, 2)); process.exit(0); }
const pct = (b, t) => `${((100 * b) / t).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${total} B with names; ${stripped.length} B without custom sections (${br} B brotli), ${fns.length} functions`);
console.log('\nsections:');
console.log('       raw          brotli alone');
for (const s of sections) console.log(`  ${String(s.bytes).padStart(8)} ${pct(s.bytes, stripped.length)}  ${s.brotli === null ? '        (not shipped)' : `${String(s.brotli).padStart(7)} ${pct(s.brotli, br)}`}  ${s.label}`);
console.log(`\nfunction bytes by crate/module (depth ${DEPTH}):`);
for (const g of out.groups.slice(0, 40)) console.log(`  ${String(g.bytes).padStart(8)} ${pct(g.bytes, stripped.length)}  ${g.group}`);
console.log(`\nbiggest ${TOP} functions:`);
for (const f of out.top) console.log(`  ${String(f.bytes).padStart(8)} ${pct(f.bytes, stripped.length)}  ${f.name.slice(0, 140)}`);
