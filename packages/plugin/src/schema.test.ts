import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { parseDuration, validateSection, type ConfigSchema } from './schema.js';

const schema: ConfigSchema = {
  name: { type: 'string', doc: 'a name' },
  mode: { type: 'string', doc: 'mode', enum: ['a', 'b'] },
  count: { type: 'integer', doc: 'count', min: 0 },
  on: { type: 'boolean', doc: 'on' },
  delay: { type: 'duration', doc: 'delay' },
  list: { type: 'string[]', doc: 'list' },
  labels: { type: 'map', doc: 'labels' },
  runtimes: { type: 'tables', doc: 'runtimes', fields: { binary: { type: 'string', doc: 'binary' } } },
};
const defaults = { name: 'x', mode: 'a', count: 1, on: false, delay: '1s', list: [], labels: {}, runtimes: {} };

test('defaults when the section is absent', () => {
  assert.deepEqual(validateSection(schema, defaults, undefined, '[plugins."p"]'), defaults);
});

test('merges given keys over defaults', () => {
  const got = validateSection(schema, defaults, { count: 5, list: ['a'], runtimes: { r: { binary: '/bin/r' } } }, 'p');
  assert.equal(got.count, 5);
  assert.deepEqual(got.list, ['a']);
  assert.deepEqual(got.runtimes, { r: { binary: '/bin/r' } });
  assert.equal(got.name, 'x');
  assert.deepEqual(defaults.list, [], 'defaults are not mutated');
});

test('unknown keys name the key and the section', () => {
  assert.throws(() => validateSection(schema, defaults, { nope: 1 }, '[plugins."io.x.v1.y"]'),
    (e: Error) => isInvalidArgument(e) && e.message === 'unknown key "nope" in [plugins."io.x.v1.y"]');
  assert.throws(() => validateSection(schema, defaults, { runtimes: { r: { binary: 'b', extra: 1 } } }, 'p'),
    (e: Error) => e.message.includes('"extra"') && e.message.includes('runtimes.r'));
});

test('type errors', () => {
  for (const bad of [{ name: 1 }, { mode: 'c' }, { count: 1.5 }, { count: -1 }, { on: 'yes' }, { delay: 'soon' }, { list: [1] }, { labels: { a: 1 } }]) {
    assert.throws(() => validateSection(schema, defaults, bad, 'p'), isInvalidArgument, JSON.stringify(bad));
  }
});

test('a bad duration names its key and section', () => {
  assert.throws(() => validateSection(schema, defaults, { delay: 'soon' }, '[plugins."io.x.v1.y"]'),
    (e: Error) => isInvalidArgument(e) && e.message === 'key "delay" in [plugins."io.x.v1.y"] must be a duration such as "10s" or "1m30s", got "soon"');
});

test('go durations', () => {
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('1h2m3s'), 3_723_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), isInvalidArgument);
  assert.throws(() => parseDuration(''), isInvalidArgument);
});
