import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, NotFoundError, codeOf, newError } from '@ctrd/errdefs';
import { StatusCode, errorFromStatus, statusFromError } from './status.js';

test('every errdefs class survives status encoding', () => {
  for (const code of ERROR_CODES) {
    const st = statusFromError(newError(code, 'thing "x"'));
    const back = errorFromStatus(st);
    assert.equal(back.code, code);
    assert.equal(back.message, 'thing "x"');
  }
});

test('status codes follow gRPC numbering', () => {
  const expect: [string, number][] = [
    ['CANCELED', 1], ['UNKNOWN', 2], ['INVALID_ARGUMENT', 3], ['DEADLINE_EXCEEDED', 4], ['NOT_FOUND', 5],
    ['ALREADY_EXISTS', 6], ['PERMISSION_DENIED', 7], ['RESOURCE_EXHAUSTED', 8], ['FAILED_PRECONDITION', 9],
    ['OUT_OF_RANGE', 11], ['NOT_IMPLEMENTED', 12], ['UNAVAILABLE', 14], ['DATA_LOSS', 15],
  ];
  for (const [code, num] of expect) {
    assert.equal(statusFromError(newError(code as never, 'm')).code, num, code);
  }
});

test('messages carry the containerd suffix on the wire', () => {
  assert.deepEqual(statusFromError(new NotFoundError('container "a"')), {
    code: StatusCode.NotFound,
    message: 'container "a": not found',
  });
  assert.deepEqual(statusFromError(new Error('boom')), { code: StatusCode.Unknown, message: 'boom' });
});

test('codes without a class become Unknown, messages kept', () => {
  for (const code of [StatusCode.Aborted, StatusCode.Internal, StatusCode.Unauthenticated, 99]) {
    const err = errorFromStatus({ code, message: 'odd' });
    assert.equal(codeOf(err), 'UNKNOWN');
    assert.equal(err.message, 'odd');
  }
});
