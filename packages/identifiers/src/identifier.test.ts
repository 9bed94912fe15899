import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { validate, isValid, MAX_IDENTIFIER_LENGTH } from './index.js';

const valid = [
  'default',
  'Default',
  'k8s.io',
  'default-default',
  'containerd.io',
  'foo.boo',
  'swarmkit.docker.io',
  '0912341234',
  'task.0.0123456789',
  'container.system-75-f19a.00',
  'underscores_are_allowed',
  'a',
  'a'.repeat(MAX_IDENTIFIER_LENGTH),
];

const invalid: Array<[string, string]> = [
  ['', 'identifier must not be empty'],
  ['.foo..foo', 'identifier ".foo..foo" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['foo/foo', 'identifier "foo/foo" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['foo/..', 'identifier "foo/.." must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['foo..foo', 'identifier "foo..foo" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['foo.-boo', 'identifier "foo.-boo" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['-foo.boo', 'identifier "-foo.boo" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['foo.boo-', 'identifier "foo.boo-" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['but__only_tasteful_underscores', 'identifier "but__only_tasteful_underscores" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['zn--e9.org', 'identifier "zn--e9.org" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['default--default', 'identifier "default--default" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['with space', 'identifier "with space" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['ünicode', 'identifier "ünicode" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  ['a'.repeat(77), `identifier "${'a'.repeat(77)}" greater than maximum length (76 characters)`],
  // 40 characters but 80 bytes: the byte length decides, as in containerd.
  ['é'.repeat(40), `identifier "${'é'.repeat(40)}" greater than maximum length (76 characters)`],
];

for (const id of valid) {
  test(`valid identifier ${JSON.stringify(id.length > 20 ? `${id.slice(0, 20)}…` : id)}`, () => {
    assert.doesNotThrow(() => validate(id));
    assert.equal(isValid(id), true);
  });
}

for (const [id, message] of invalid) {
  test(`invalid identifier ${JSON.stringify(id.length > 20 ? `${id.slice(0, 20)}…` : id)}`, () => {
    assert.throws(
      () => validate(id),
      (err: unknown) => isInvalidArgument(err) && (err as Error).message === message,
    );
    assert.equal(isValid(id), false);
  });
}
