import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarDirectory, untarInto } from './tar.js';

test('tarDirectory and untarInto round-trip a directory tree, readable by tar(1)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtv2-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'a.img'), Buffer.alloc(1000, 7));
  writeFileSync(join(src, 'sub', 'b'), 'bee');
  writeFileSync(join(src, 'empty'), '');
  const tar = await tarDirectory(src);
  assert.equal(tar.length % 512, 0);
  writeFileSync(join(dir, 'x.tar'), tar);
  assert.deepEqual(execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' }).split('\n').filter(Boolean).sort(), ['a.img', 'empty', 'sub/', 'sub/b']);
  const out = join(dir, 'out');
  await untarInto(tar, out);
  assert.deepEqual(readFileSync(join(out, 'a.img')), Buffer.alloc(1000, 7));
  assert.equal(readFileSync(join(out, 'sub', 'b'), 'utf8'), 'bee');
  assert.equal(readFileSync(join(out, 'empty'), 'utf8'), '');
});

test('untarInto refuses entries that escape the target', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtv2-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'f'), 'x');
  const tar = await tarDirectory(join(dir, 'src'));
  tar.write('../evil\0', 0, 'utf8');
  await assert.rejects(untarInto(tar, join(dir, 'out')), /escapes/);
});
