import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { formatDuration, tryLockRef, withBlobLock } from './locks.js';
import { parseTimestamp } from './ingest.js';

test('formatDuration matches Go', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ns'],
    [999, '999ns'],
    [1500, '1.5µs'],
    [850_000, '850µs'],
    [1_234_567, '1.234567ms'],
    [12_500_000, '12.5ms'],
    [1e9, '1s'],
    [1.5e9, '1.5s'],
    [61e9, '1m1s'],
    [123.25e9, '2m3.25s'],
    [3600e9, '1h0m0s'],
    [3723.000000001e9, '1h2m3.000000001s'],
  ];
  for (const [ns, want] of cases) assert.equal(formatDuration(ns), want, String(ns));
});

test('tryLockRef is exclusive per key and release is idempotent', () => {
  const release = tryLockRef('/k1', 'r');
  assert.throws(() => tryLockRef('/k1', 'r'), (e: unknown) => codeOf(e) === 'UNAVAILABLE');
  const other = tryLockRef('/k2', 'r');
  release();
  release();
  const again = tryLockRef('/k1', 'r');
  assert.throws(() => tryLockRef('/k1', 'r'));
  again();
  other();
});

test('withBlobLock serialises calls per key, also after failures', async () => {
  const order: string[] = [];
  const slow = (name: string, ms: number, fail = false) => async () => {
    order.push(`${name}+`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`${name}-`);
    if (fail) throw new Error(name);
    return name;
  };
  const a = withBlobLock('x', slow('a', 20, true));
  const b = withBlobLock('x', slow('b', 1));
  const c = withBlobLock('y', slow('c', 1));
  await assert.rejects(a, /a/);
  assert.equal(await b, 'b');
  assert.equal(await c, 'c');
  assert.ok(order.indexOf('a-') < order.indexOf('b+'), order.join(' '));
  assert.ok(order.indexOf('c+') < order.indexOf('a-'), 'other keys do not wait');
});

test('parseTimestamp reads Go and JS renderings', () => {
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z')?.toISOString(), '2024-01-02T03:04:05.000Z');
  assert.equal(parseTimestamp('2024-01-02T03:04:05.987654321Z\n')?.toISOString(), '2024-01-02T03:04:05.987Z');
  assert.equal(parseTimestamp('2024-01-02T03:04:05.5-01:30')?.toISOString(), '2024-01-02T04:34:05.500Z');
  assert.equal(parseTimestamp('yesterday'), undefined);
  assert.equal(parseTimestamp(undefined), undefined);
});
