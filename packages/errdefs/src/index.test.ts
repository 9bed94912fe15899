import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_CODES, NotFoundError, InvalidArgumentError, codeOf, isNotFound, isAlreadyExists, isCanceled,
  messageWithSuffix, stripSuffix, newError, CtrdError,
} from './index.js';

test('every code builds an error of its own class', () => {
  for (const code of ERROR_CODES) {
    const err = newError(code, 'x');
    assert.ok(err instanceof CtrdError);
    assert.equal(err.code, code);
    assert.equal(codeOf(err), code);
  }
});

test('predicates walk the cause chain', () => {
  const inner = new NotFoundError('blob sha256:abc');
  const outer = new Error('reading manifest', { cause: new Error('fetch', { cause: inner }) });
  assert.equal(isNotFound(outer), true);
  assert.equal(isAlreadyExists(outer), false);
  assert.equal(codeOf(outer), 'NOT_FOUND');
  assert.equal(codeOf(new Error('plain')), 'UNKNOWN');
});

test('the first classified error in the chain wins', () => {
  const err = new InvalidArgumentError('bad ref', { cause: new NotFoundError('x') });
  assert.equal(codeOf(err), 'INVALID_ARGUMENT');
  assert.equal(isNotFound(err), true);
});

test('a cause cycle terminates', () => {
  const a: { cause?: unknown } & Error = new Error('a');
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(codeOf(a), 'UNKNOWN');
});

test('brand survives a foreign copy of the class', () => {
  const foreign = Object.assign(new Error('x'), { [Symbol.for('ctrd.errdefs.code')]: 'NOT_FOUND' });
  assert.equal(isNotFound(foreign), true);
});

test('AbortError counts as canceled', () => {
  const ac = new AbortController();
  ac.abort();
  assert.equal(isCanceled(ac.signal.reason), true);
});

test('messages carry the containerd suffix once', () => {
  assert.equal(messageWithSuffix(new NotFoundError('image "x"')), 'image "x": not found');
  assert.equal(messageWithSuffix(new NotFoundError('image "x": not found')), 'image "x": not found');
  assert.equal(stripSuffix('NOT_FOUND', 'image "x": not found'), 'image "x"');
  assert.equal(stripSuffix('NOT_FOUND', 'image "x"'), 'image "x"');
  assert.equal(messageWithSuffix(new Error('plain')), 'plain');
});

test('name reflects the class', () => {
  assert.equal(new NotFoundError('x').name, 'NotFoundError');
});
