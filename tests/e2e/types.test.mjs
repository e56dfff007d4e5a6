// The npm package's types as a TypeScript user meets them: pkg/npm installed from an `npm pack`
// tarball into a scratch project, and tests/ts/consumer.ts (init, every API method, the global and
// the document events, and mistakes marked ts-expect-error that the types must catch) compiled
// with the pinned TypeScript, `tsc --noEmit --strict`, library files checked too (skipLibCheck
// off), under both module resolutions a project uses with a bundler or with Node (bundler,
// nodenext). tests/ts/mistake.ts holds one deliberate type error that tsc must report.
//
// Owns: nothing but the scratch project. Must never: ask the network (the install is --offline).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const run = promisify(execFile);
const PKG = join(ROOT, 'pkg/npm');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const FIXTURES = join(ROOT, 'tests/ts');

let dir;
before(async () => {
  assert.ok(existsSync(join(PKG, 'package.json')), 'pkg/npm is missing: run cargo xtask build');
  assert.ok(existsSync(TSC), 'typescript is not installed: npm ci');
  dir = mkdtempSync(join(tmpdir(), 'consentry-types-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, PKG], { cwd: dir });
  const tarball = join(dir, stdout.trim().split('\n').pop());
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-types', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: dir });
  for (const f of ['consumer.ts', 'mistake.ts', 'tsconfig.json']) cpSync(join(FIXTURES, f), join(dir, f));
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/// `tsc --noEmit --strict -p <project> ...args` in the scratch project: { code, out }.
async function tsc(project, args = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '--noEmit', '--strict', '--pretty', 'false', '-p', project, ...args], { cwd: dir });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

test('the consumer uses init and every method the generated Consentry class declares', () => {
  const dts = readFileSync(join(dir, 'node_modules/consentry/consentry.d.ts'), 'utf8');
  const cls = /export class Consentry \{([\s\S]*?)\n\}/.exec(dts);
  assert.ok(cls, 'consentry.d.ts declares no Consentry class');
  const methods = [...cls[1].matchAll(/^ {4}(\w+)\(/gm)].map((m) => m[1]).filter((m) => m !== 'free');
  assert.ok(methods.length >= 11, `too few methods found in consentry.d.ts: ${methods}`);
  const consumer = readFileSync(join(FIXTURES, 'consumer.ts'), 'utf8');
  const unused = methods.filter((m) => !consumer.includes(`consentry.${m}(`));
  assert.deepEqual(unused, [], 'tests/ts/consumer.ts does not call these API methods');
  assert.match(consumer, /await init\(config, options\)/);
});

// tsconfig.json: lib ES2022 + DOM, moduleResolution bundler (a Vite or webpack project); then Node's
// resolution, and a lib that declares Symbol.dispose itself (index.d.ts declares it for older libs).
const VARIANTS = {
  'moduleResolution bundler, lib ES2022': [],
  'moduleResolution nodenext': ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
  'lib ESNext': ['--lib', 'esnext,dom,dom.iterable', '--target', 'esnext'],
};
for (const [name, args] of Object.entries(VARIANTS)) {
  test(`a strict TypeScript consumer compiles (${name}), and every marked mistake is reported`, async () => {
    const { code, out } = await tsc('tsconfig.json', args);
    assert.equal(out.trim(), '', `tsc reported errors:\n${out}`);
    assert.equal(code, 0);
  });
}

test('a deliberate type error (a receipt list used as a string) is reported, and only it', async () => {
  writeFileSync(join(dir, 'tsconfig.mistake.json'), JSON.stringify({ extends: './tsconfig.json', files: ['mistake.ts'] }));
  const { code, out } = await tsc('tsconfig.mistake.json');
  assert.notEqual(code, 0, `tsc accepted mistake.ts:\n${out}`);
  const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
  assert.equal(errors.length, 1, `expected exactly one error:\n${out}`);
  assert.match(errors[0], /^mistake\.ts\(6,7\): error TS2322: Type 'Receipt\[\]' is not assignable to type 'string'\./);
});
