import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeFlagsOf } from './launcher.js';

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
