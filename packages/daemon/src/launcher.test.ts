import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from './code-cache.js';
import { ctrdCodeCacheFile, nodeFlagsOf } from './launcher.js';

test('nodeFlagsOf reads the flags of an env -S shebang', () => {
  assert.deepEqual(nodeFlagsOf('#!/usr/bin/env -S node --a=1 --b'), ['--a=1', '--b']);
  assert.deepEqual(nodeFlagsOf('#!/usr/bin/env -S node'), []);
});

test('nodeFlagsOf refuses any other first line', () => {
  assert.throws(() => nodeFlagsOf('#!/usr/bin/env node'), /unexpected first line/);
  assert.throws(() => nodeFlagsOf("import { x } from 'y';"), /unexpected first line/);
  assert.throws(() => nodeFlagsOf('#!/usr/bin/env -S node -e 1'), /unexpected first line/);
});

test("the launcher's source carries the flags the daemon runs with", () => {
  const source = fileURLToPath(new URL('../src/bin/ctrd-launcher.ts', import.meta.url));
  const flags = nodeFlagsOf(readFileSync(source, 'utf8').split('\n', 1)[0]!);
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
