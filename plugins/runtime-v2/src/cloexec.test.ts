import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { closeOnExec } from './cloexec.js';

test('closeOnExec keeps descriptors opened without O_CLOEXEC out of child processes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-cloexec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'held');
  // open(2) straight from libc, as a native library would: no O_CLOEXEC.
  const open = koffi.load('libc.so.6').func('int open(const char *path, int flags, int mode)') as (p: string, f: number, m: number) => number;
  const fd = open(file, 0o100 | 0o1, 0o600);
  assert.ok(fd > 2);
  t.after(() => closeSync(fd));
  const childFds = () => execFileSync('sh', ['-c', 'for f in /proc/$$/fd/*; do readlink "$f" || true; done'], { encoding: 'utf8' });
  assert.match(childFds(), new RegExp(file), 'inherited before');
  closeOnExec();
  assert.doesNotMatch(childFds(), new RegExp(file), 'not inherited after');
  assert.equal(readlinkSync(`/proc/self/fd/${fd}`), file, 'still open here');
});
