import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { EMPTY_DIGEST, digestFromBytes, parseDigest, validateDigest } from './digest.js';

const HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

test('parseDigest splits a sha256 digest', () => {
  assert.deepEqual(parseDigest(`sha256:${HEX}`), { algorithm: 'sha256', hex: HEX });
  assert.equal(validateDigest(EMPTY_DIGEST), EMPTY_DIGEST);
});

test('malformed digests are InvalidArgument', () => {
  for (const d of ['', 'sha256', ':abc', 'sha256:', `sha256:${HEX.toUpperCase()}`, `sha256:${HEX}0`, `sha256:${HEX.slice(1)}`, `SHA256:${HEX}`, `sha256 :${HEX}`, `md5:${'a'.repeat(32)}`, `x:${HEX}`]) {
    assert.throws(() => parseDigest(d), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT', JSON.stringify(d));
  }
  assert.throws(() => parseDigest(undefined as unknown as string), (e: unknown) => codeOf(e) === 'INVALID_ARGUMENT');
});

test('sha384 and sha512 are NotImplemented', () => {
  assert.throws(() => validateDigest(`sha512:${'a'.repeat(128)}`), (e: unknown) => codeOf(e) === 'NOT_IMPLEMENTED');
  assert.throws(() => validateDigest(`sha384:${'a'.repeat(96)}`), (e: unknown) => codeOf(e) === 'NOT_IMPLEMENTED');
});

test('digestFromBytes', () => {
  assert.equal(digestFromBytes(new Uint8Array()), EMPTY_DIGEST);
  assert.equal(digestFromBytes('foobar'), 'sha256:c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2');
});
