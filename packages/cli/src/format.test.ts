import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { decimalSize, formatLabels, humanAge, jsonSafe, parseDuration, parseLabelArgs, rfc3339 } from './format.js';

test('parseLabelArgs splits at the first = and lets a bare key clear', () => {
  assert.deepEqual(parseLabelArgs(['a=1', 'b=x=y', 'c=', 'd']), { a: '1', b: 'x=y', c: '', d: '' });
  assert.throws(() => parseLabelArgs(['=v']), isInvalidArgument);
});

test('formatLabels sorts pairs and shows a placeholder when empty', () => {
  assert.equal(formatLabels({ z: '1', a: '2' }), 'a=2,z=1');
  assert.equal(formatLabels({}), '-');
  assert.equal(formatLabels(undefined, ''), '');
});

test('decimalSize uses decimal units and four significant digits', () => {
  assert.equal(decimalSize(12), '12B');
  assert.equal(decimalSize(1234), '1.234kB');
  assert.equal(decimalSize(1_500_000), '1.5MB');
  assert.equal(decimalSize(999_999), '1000kB');
});

test('humanAge reads like ctr AGE columns', () => {
  assert.equal(humanAge(200), 'Less than a second');
  assert.equal(humanAge(1000), '1 second');
  assert.equal(humanAge(45_000), '45 seconds');
  assert.equal(humanAge(61_000), 'About a minute');
  assert.equal(humanAge(5 * 60_000), '5 minutes');
  assert.equal(humanAge(3_600_000), 'About an hour');
  assert.equal(humanAge(5 * 3_600_000), '5 hours');
  assert.equal(humanAge(3 * 86_400_000), '3 days');
  assert.equal(humanAge(21 * 86_400_000), '3 weeks');
  assert.equal(humanAge(90 * 86_400_000), '3 months');
  assert.equal(humanAge(800 * 86_400_000), '2 years');
});

test('rfc3339 has no fraction and a zone', () => {
  assert.match(rfc3339(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
});

test('jsonSafe turns bytes into base64 and recurses', () => {
  assert.deepEqual(jsonSafe({ a: Buffer.from('hi'), b: [new Uint8Array([1])], c: { d: 1 } }), { a: 'aGk=', b: ['AQ=='], c: { d: 1 } });
});

test('parseDuration reads Go durations', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), isInvalidArgument);
  assert.throws(() => parseDuration('x1s'), isInvalidArgument);
});
