import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInvalidArgument } from '@ctrd/errdefs';
import { GO_ZERO_TIMESTAMP, fromTimestamp, isUnsetTimestamp, toTimestamp } from './timestamp.js';

test('toTimestamp splits milliseconds into seconds and nanos', () => {
  assert.deepEqual(toTimestamp(1_700_000_000_123), { seconds: 1_700_000_000, nanos: 123_000_000 });
  assert.deepEqual(toTimestamp(new Date('2024-01-02T03:04:05.678Z')), { seconds: 1704164645, nanos: 678_000_000 });
  assert.deepEqual(toTimestamp(0.5), { seconds: 0, nanos: 500_000 });
});

test('toTimestamp keeps nanos non-negative before the epoch', () => {
  assert.deepEqual(toTimestamp(-1), { seconds: -1, nanos: 999_000_000 });
  assert.deepEqual(toTimestamp(-62135596800000), { seconds: -62135596800, nanos: 0 });
});

test('toTimestamp rejects an invalid date', () => {
  assert.throws(() => toTimestamp(new Date('nope')), isInvalidArgument);
  assert.throws(() => toTimestamp(Number.NaN), isInvalidArgument);
});

test('fromTimestamp treats absence and Go\'s zero time as unset', () => {
  assert.equal(fromTimestamp(undefined), undefined);
  assert.equal(fromTimestamp(GO_ZERO_TIMESTAMP), undefined);
  assert.equal(fromTimestamp({ seconds: -62135596800, nanos: 0 }), undefined);
  assert.ok(isUnsetTimestamp(GO_ZERO_TIMESTAMP));
  assert.ok(!isUnsetTimestamp({ seconds: 0, nanos: 0 }));
  assert.equal(fromTimestamp({ seconds: 0, nanos: 0 })?.toISOString(), '1970-01-01T00:00:00.000Z');
  assert.equal(fromTimestamp({ seconds: 1704164645, nanos: 678_999_999 })?.toISOString(), '2024-01-02T03:04:05.678Z');
});

test('a timestamp survives toTimestamp and fromTimestamp', () => {
  const d = new Date('2031-05-06T07:08:09.010Z');
  assert.equal(fromTimestamp(toTimestamp(d))?.getTime(), d.getTime());
  assert.ok(Object.isFrozen(GO_ZERO_TIMESTAMP));
});
