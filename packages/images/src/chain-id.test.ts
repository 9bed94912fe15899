import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainId, chainIds } from './chain-id.js';

// sha256 of "a", "b", "c"; the chain values were computed independently with the formula
// ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
const A = 'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
const B = 'sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
const C = 'sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
const AB = 'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676';
const ABC = 'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106';

test('chainIds: empty, identity, two and three layers', () => {
  assert.deepEqual(chainIds([]), []);
  assert.deepEqual(chainIds([A]), [A]);
  assert.deepEqual(chainIds([A, B]), [A, AB]);
  assert.deepEqual(chainIds([A, B, C]), [A, AB, ABC]);
});

test('chainId is the last chain ID, empty for no layers', () => {
  assert.equal(chainId([A, B, C]), ABC);
  assert.equal(chainId([]), '');
});

test('chainIds depends on order', () => {
  assert.notEqual(chainId([B, A]), chainId([A, B]));
});

test('chainIds rejects a malformed diffID', () => {
  assert.throws(() => chainIds([A, 'sha256:zz']), { code: 'INVALID_ARGUMENT' });
});
