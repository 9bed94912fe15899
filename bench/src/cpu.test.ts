import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuDelta, cpuMs, parseStatTicks, threadsCpuMs } from './cpu.js';

test('parseStatTicks sums utime and stime, also when the command name holds spaces and parentheses', () => {
  const line = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 11 0 500 1000 200';
  assert.equal(parseStatTicks(line), 42);
});

test('parseStatTicks rejects a line without a command name', () => {
  assert.throws(() => parseStatTicks('garbage'));
});

test('cpuMs of this process grows with work and is undefined for a pid that does not exist', () => {
  const before = cpuMs(process.pid)!;
  assert.ok(before >= 0);
  // Spin until a tick is charged; on a loaded machine that may take longer than the CPU time itself.
  const t0 = Date.now();
  // A tick may be charged before the first check, so the loop need not run at all.
  let x = 0;
  while (cpuMs(process.pid)! <= before && Date.now() - t0 < 5000) for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
  assert.ok(cpuMs(process.pid)! > before, 'no CPU time charged after 5 s of spinning');
  assert.equal(cpuMs(2 ** 22 + 1), undefined);
});

test('threadsCpuMs of this process counts below a clock tick and is undefined for a pid that does not exist', () => {
  const before = threadsCpuMs(process.pid)!;
  // Spin until the scheduler has charged a millisecond, a tenth of cpuMs's resolution.
  const t0 = Date.now();
  let after = before;
  while (after - before < 1 && Date.now() - t0 < 5000) after = threadsCpuMs(process.pid)!;
  assert.ok(after - before >= 1 && after - before < 100, `${after} - ${before}`);
  assert.equal(threadsCpuMs(2 ** 22 + 1), undefined);
});

test('cpuDelta counts new processes whole and ignores those gone', () => {
  const before = new Map([[1, 100], [2, 50]]);
  const after = new Map([[1, 130], [3, 20]]);
  assert.equal(cpuDelta(before, after), 50);
});
