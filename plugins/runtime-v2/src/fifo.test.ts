import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlreadyExists, isFailedPrecondition, isNotFound } from '@ctrd/errdefs';
import { mkfifo } from './fifo.js';
import { openShimLog } from './shim-log.js';

test('mkfifo makes a named pipe with the mode asked for and classifies its failures', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'log');
  mkfifo(path, 0o700);
  const st = lstatSync(path);
  assert.ok(st.isFIFO());
  assert.equal(st.mode & 0o777, 0o700);
  assert.throws(() => mkfifo(path, 0o700), (err: Error) => isAlreadyExists(err));
  assert.throws(() => mkfifo(join(dir, 'missing', 'log'), 0o700), (err: Error) => isNotFound(err));
});

test('openShimLog makes the fifo, hands over its lines, and refuses a path that is not a fifo', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'log');
  const lines: string[] = [];
  const log = await openShimLog(path, (l) => lines.push(l));
  try {
    assert.ok(lstatSync(path).isFIFO());
    writeFileSync(path, 'one\ntwo\n');
    for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(lines, ['one', 'two']);
  } finally {
    log.close();
  }
  const file = join(dir, 'plain');
  writeFileSync(file, '');
  await assert.rejects(openShimLog(file, () => {}), (err: Error) => isFailedPrecondition(err));
});
