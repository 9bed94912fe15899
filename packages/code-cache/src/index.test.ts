import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PREWRAPPED, dynamicImport, readSource, runWithCodeCache } from './index.js';

const ran = globalThis as { __codeCacheTest?: unknown[] };

test('runWithCodeCache runs a CommonJS file, writes its cache once and uses it for that build only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bundle.cjs');
  const cacheDir = join(dir, 'cache');
  const body = (n: number) =>
    `#!/usr/bin/env node\nconst { basename } = require('node:path');\nfunction f(x) { return x * ${n}; }\n(globalThis.__codeCacheTest ??= []).push([f(2), basename(__filename), typeof module.exports]);\n`;
  writeFileSync(file, body(21));
  ran.__codeCacheTest = [];

  const first = runWithCodeCache(file, { cacheDir, writeAfterMs: 0 });
  assert.equal(first.cache, 'none');
  assert.deepEqual(ran.__codeCacheTest, [[42, 'bundle.cjs', 'object']]);
  await sleep(50);
  assert.deepEqual(readdirSync(cacheDir), [first.file.slice(cacheDir.length + 1)]);

  const second = runWithCodeCache(file, { cacheDir, writeAfterMs: 0 });
  assert.equal(second.cache, 'used');
  assert.equal(second.file, first.file);
  assert.deepEqual(ran.__codeCacheTest.at(-1), [42, 'bundle.cjs', 'object']);

  // A rebuilt bundle (another size) gets a cache of its own; the stale one is removed.
  writeFileSync(file, body(1000));
  const third = runWithCodeCache(file, { cacheDir, writeAfterMs: 0 });
  assert.equal(third.cache, 'none');
  assert.notEqual(third.file, first.file);
  assert.deepEqual(ran.__codeCacheTest.at(-1), [2000, 'bundle.cjs', 'object']);
  await sleep(50);
  assert.deepEqual(readdirSync(cacheDir), [third.file.slice(cacheDir.length + 1)]);
});

test('runWithCodeCache runs without a cache where none can be written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, '(globalThis.__codeCacheTest ??= []).push("plain");\n');
  writeFileSync(join(dir, 'not-a-dir'), '');
  ran.__codeCacheTest = [];
  const r = runWithCodeCache(file, { cacheDir: join(dir, 'not-a-dir', 'cache'), writeAfterMs: 0 });
  assert.equal(r.cache, 'none');
  assert.deepEqual(ran.__codeCacheTest, ['plain']);
  await sleep(50);
});

test('dynamicImport works in a script run from its code cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'dep.mjs'), 'export const answer = 42;\n');
  const file = join(dir, 'bundle.cjs');
  const g = globalThis as { __codeCacheImport?: Promise<{ answer: number }> };
  // The script carries dynamicImport's own code, as the daemon's bundle does: a plain import()
  // in its place fails once the script compiles from the cache (Node 20).
  writeFileSync(
    file,
    `const IMPORT = Symbol.for('ctrd.dynamicImport');\n${dynamicImport.toString()}\n` +
      `globalThis.__codeCacheImport = dynamicImport(require('node:url').pathToFileURL(require('node:path').join(__dirname, 'dep.mjs')).href);\n`,
  );
  const cacheDir = join(dir, 'cache');
  assert.equal(runWithCodeCache(file, { cacheDir, writeAfterMs: 0 }).cache, 'none');
  assert.equal((await g.__codeCacheImport!).answer, 42);
  await sleep(50);
  g.__codeCacheImport = undefined;
  assert.equal(runWithCodeCache(file, { cacheDir, writeAfterMs: 0 }).cache, 'used');
  assert.equal((await g.__codeCacheImport!).answer, 42);
});

test('runWithCodeCache compiles a file that carries its own wrapper as it is, with or without a cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bundle.cjs');
  const cacheDir = join(dir, 'cache');
  // Wrapped a second time, this would only define a function and run nothing.
  writeFileSync(file, `#!/usr/bin/env node\n${PREWRAPPED}\n(globalThis.__codeCacheTest ??= []).push([typeof require, typeof module.exports, __filename === ${JSON.stringify(file)}]);\n})`);
  ran.__codeCacheTest = [];
  assert.equal(runWithCodeCache(file, { cacheDir, writeAfterMs: 0 }).cache, 'none');
  await sleep(50);
  assert.equal(runWithCodeCache(file, { cacheDir, writeAfterMs: 0 }).cache, 'used');
  assert.equal(runWithCodeCache(file, { cacheDir, cache: false }).cache, 'none');
  assert.deepEqual(ran.__codeCacheTest, Array(3).fill(['function', 'object', true]));
});

test('readSource reads ASCII and UTF-8 files to the same strings as a UTF-8 read', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of [['ascii.cjs', 'const s = "plain \\u00e9";\n'], ['utf8.cjs', 'const s = "caf\u00e9 \u2713 \u{1f40b}";\n'], ['empty.cjs', '']]) {
    const file = join(dir, name);
    writeFileSync(file, text);
    assert.equal(readSource(file), text, name);
  }
});

test('runWithCodeCache runs a file whose source is not ASCII', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, '(globalThis.__codeCacheTest ??= []).push("caf\u00e9 \u2713".length);\n');
  ran.__codeCacheTest = [];
  runWithCodeCache(file, { cacheDir: join(dir, 'cache'), writeAfterMs: 0 });
  assert.deepEqual(ran.__codeCacheTest, [6]);
  await sleep(50);
});
