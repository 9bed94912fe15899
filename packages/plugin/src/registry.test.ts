import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAlreadyExists, isInvalidArgument } from '@ctrd/errdefs';
import { Registry } from './registry.js';

const noop = () => ({});

test('rejects empty type and id', () => {
  const r = new Registry();
  assert.throws(() => r.register({ type: '', id: 'x', init: noop }), isInvalidArgument);
  assert.throws(() => r.register({ type: 'io.x.v1', id: '', init: noop }), isInvalidArgument);
});

test('rejects duplicate URIs', () => {
  const r = new Registry().register({ type: 'io.x.v1', id: 'a', init: noop });
  assert.throws(() => r.register({ type: 'io.x.v1', id: 'a', init: noop }), (e: Error) => isAlreadyExists(e) && /io\.x\.v1\.a/.test(e.message));
  r.register({ type: 'io.x.v1', id: 'b', init: noop });
  assert.deepEqual(r.list().map((x) => x.id), ['a', 'b']);
});

test('"*" must stand alone in requires', () => {
  const r = new Registry();
  assert.throws(() => r.register({ type: 'io.x.v1', id: 'a', requires: ['*', 'io.y.v1'], init: noop }), isInvalidArgument);
  r.register({ type: 'io.x.v1', id: 'b', requires: ['*'], init: noop });
});

test('defaults that break their own schema are rejected at registration', () => {
  const r = new Registry();
  assert.throws(
    () => r.register({ type: 'io.x.v1', id: 'a', config: { schema: { n: { type: 'integer', doc: 'n' } }, defaults: { n: 'x' } }, init: noop }),
    isInvalidArgument,
  );
});
