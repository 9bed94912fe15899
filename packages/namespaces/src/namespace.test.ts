import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeOf, FailedPreconditionError } from '@ctrd/errdefs';
import {
  NAMESPACE_HEADER, TTRPC_NAMESPACE_HEADER, LEASE_HEADER, DEFAULT_NAMESPACE,
  validateNamespace, namespaceRequired, resolveNamespace,
} from './index.js';

test('header names match containerd', () => {
  assert.equal(NAMESPACE_HEADER, 'containerd-namespace');
  assert.equal(TTRPC_NAMESPACE_HEADER, 'containerd-namespace-ttrpc');
  assert.equal(LEASE_HEADER, 'containerd-lease');
  assert.equal(DEFAULT_NAMESPACE, 'default');
});

test('namespaceRequired is a FailedPrecondition', () => {
  const err = namespaceRequired();
  assert.ok(err instanceof FailedPreconditionError);
  assert.equal(err.message, 'namespace is required');
});

const resolveCases: Array<[string | undefined, string | { code: string; message: string }]> = [
  ['default', 'default'],
  ['k8s.io', 'k8s.io'],
  ['moby', 'moby'],
  [undefined, { code: 'FAILED_PRECONDITION', message: 'namespace is required' }],
  ['', { code: 'FAILED_PRECONDITION', message: 'namespace is required' }],
  [
    'bad..ns',
    {
      code: 'INVALID_ARGUMENT',
      message: 'namespace validation: identifier "bad..ns" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$',
    },
  ],
  [
    'x'.repeat(77),
    {
      code: 'INVALID_ARGUMENT',
      message: `namespace validation: identifier "${'x'.repeat(77)}" greater than maximum length (76 characters)`,
    },
  ],
];

for (const [input, want] of resolveCases) {
  test(`resolveNamespace(${JSON.stringify(input)?.slice(0, 20)})`, () => {
    if (typeof want === 'string') {
      assert.equal(resolveNamespace(input), want);
      return;
    }
    assert.throws(
      () => resolveNamespace(input),
      (err: unknown) => codeOf(err) === want.code && (err as Error).message === want.message,
    );
  });
}

test('validateNamespace applies the identifier rule', () => {
  assert.doesNotThrow(() => validateNamespace('default'));
  assert.throws(() => validateNamespace(''), (err: unknown) => codeOf(err) === 'INVALID_ARGUMENT');
  assert.throws(() => validateNamespace('-x'), /identifier "-x" must match/);
  assert.throws(() => validateNamespace('a/b'), (err: unknown) => codeOf(err) === 'INVALID_ARGUMENT');
});
