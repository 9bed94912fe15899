import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { forgetPath, lookPath } from './look-path.js';
import { posixSpawnAvailable } from './posix-spawn.js';
import { Reaper } from './reaper.js';

function program(dir: string, name: string, body: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

test('lookPath takes the first executable file on PATH and remembers it until forgotten', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'look-path-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const name = `lp-${process.pid}`;
  program(join(root, 'a'), name, 'exit 0', 0o644); // not executable
  mkdirSync(join(root, 'b', name), { recursive: true }); // a directory
  const c = program(join(root, 'c'), name, 'exit 0');
  const d = program(join(root, 'd'), name, 'exit 0');
  const path = ['a', 'b', 'missing', 'c', 'd'].map((x) => join(root, x)).join(':');
  assert.equal(lookPath(name, path), c);
  rmSync(c);
  assert.equal(lookPath(name, path), c, 'the answer is remembered');
  forgetPath(name);
  assert.equal(lookPath(name, path), d);
  assert.equal(lookPath('/bin/sh', path), '/bin/sh', 'a path is kept as it is');
  assert.equal(lookPath(`lp-none-${process.pid}`, path), `lp-none-${process.pid}`, 'not found: left to the spawn');
  assert.equal(lookPath(name, `relative:${join(root, 'd')}`), name, 'a relative directory first: left to the spawn');
});

test('Reaper.run finds a program again once it has moved', { skip: posixSpawnAvailable() ? false : 'posix_spawn is not available in this libc' }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'look-path-run-'));
  const reaper = new Reaper();
  reaper.start();
  const oldPath = process.env.PATH;
  t.after(() => {
    process.env.PATH = oldPath;
    reaper.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const name = `lp-run-${process.pid}`;
  const first = program(join(root, 'first'), name, 'echo first');
  mkdirSync(join(root, 'second'));
  process.env.PATH = `${join(root, 'first')}:${join(root, 'second')}:${oldPath}`;
  assert.equal((await reaper.run(name, [])).stdout, 'first\n');
  renameSync(first, join(root, 'second', name));
  assert.equal((await reaper.run(name, [])).stdout, 'first\n', 'run from its new directory');
  assert.equal(lookPath(name), join(root, 'second', name));
});
