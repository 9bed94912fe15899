import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from '@ctrd/code-cache';
import { EXTRA_CA_CERTS_ENV } from '@ctrd/remotes-docker';
import { ctrdCodeCacheFile, launcherEnvOf, nodeFlagsOf, parseLauncherLine } from './launcher.js';

test('nodeFlagsOf reads the flags of an env -S shebang', () => {
  assert.deepEqual(nodeFlagsOf('#!/usr/bin/env -S node --a=1 --b'), ['--a=1', '--b']);
  assert.deepEqual(nodeFlagsOf('#!/usr/bin/env -S node'), []);
});

test('nodeFlagsOf refuses any other first line', () => {
  assert.throws(() => nodeFlagsOf('#!/usr/bin/env node'), /unexpected first line/);
  assert.throws(() => nodeFlagsOf("import { x } from 'y';"), /unexpected first line/);
  assert.throws(() => nodeFlagsOf('#!/usr/bin/env -S node -e 1'), /unexpected first line/);
});

test('parseLauncherLine reads what env does before node', () => {
  assert.deepEqual(parseLauncherLine('#!/usr/bin/env -S -u A B=${A} C=x node --f'), { unset: ['A'], set: [['B', '${A}'], ['C', 'x']], flags: ['--f'] });
  assert.throws(() => parseLauncherLine('#!/usr/bin/env -S -i node'), /unexpected first line/);
  assert.throws(() => parseLauncherLine('#!/usr/bin/env -S -u node'), /unexpected first line/);
  assert.throws(() => parseLauncherLine('#!/usr/bin/env -S A=1'), /unexpected first line/);
});

test('launcherEnvOf expands from the environment env found, then unsets, then sets', () => {
  const line = '#!/usr/bin/env -S -u A B=${A} C=${MISSING} node';
  assert.deepEqual(launcherEnvOf(line, { A: '1', D: '2' }), { B: '1', C: '', D: '2' });
  assert.deepEqual(launcherEnvOf('#!/usr/bin/env -S node --f', { A: '1' }), { A: '1' });
});

const launcherSource = (): string => readFileSync(fileURLToPath(new URL('../src/bin/ctrd-launcher.ts', import.meta.url)), 'utf8').split('\n', 1)[0]!;

test("GNU env gives node what launcherEnvOf reads from the launcher's first line", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'show-env.mjs');
  writeFileSync(script, `${launcherSource()}\nprocess.stdout.write(JSON.stringify(process.env));\n`);
  chmodSync(script, 0o755);
  // A file node cannot read: node warns at start-up when it gets the variable.
  const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem'), KEPT: 'yes' };
  const r = spawnSync(script, { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout) as NodeJS.ProcessEnv;
  const expected = launcherEnvOf(launcherSource(), env);
  for (const k of ['NODE_EXTRA_CA_CERTS', EXTRA_CA_CERTS_ENV, 'KEPT']) assert.equal(seen[k], expected[k], k);
  // The daemon's registry client finds the file under the name it reads.
  assert.equal(expected.NODE_EXTRA_CA_CERTS, undefined);
  assert.equal(expected[EXTRA_CA_CERTS_ENV], env.NODE_EXTRA_CA_CERTS);
  assert.doesNotMatch(r.stderr, /extra certs/, 'node did not load the file at start-up');
  const bare = spawnSync(process.execPath, ['-e', '0'], { env, encoding: 'utf8' });
  assert.match(bare.stderr, /Ignoring extra certs/, 'node started with the variable loads it at once');
});

test("the launcher's source carries the flags the daemon runs with", () => {
  const flags = nodeFlagsOf(launcherSource());
  assert.ok(flags.includes('--initial-old-space-size=128'), flags.join(' '));
});

test('ctrdCodeCacheFile names the cache the launcher writes for the bundle beside it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ctrd.js'), '');
  writeFileSync(join(dir, 'ctrd.cjs'), '(globalThis.__launcherTest ??= 0);\n');
  // The launcher runs its bundle with the default cache directory, as here.
  const ran = runWithCodeCache(join(dir, 'ctrd.cjs'), { writeAfterMs: 0 });
  assert.equal(ctrdCodeCacheFile(join(dir, 'ctrd.js')), ran.file);
  // the cache is written on a timer: let it land before the directory goes
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(ran.file));
});
