import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundOrder } from './measure.js';

test('roundOrder puts each daemon second in every other round', () => {
  const order = [1, 2, 3, 4].map((n) => roundOrder(['containerd', 'ctrd'], n).join(' '));
  assert.deepEqual(order, ['containerd ctrd', 'ctrd containerd', 'containerd ctrd', 'ctrd containerd']);
  assert.deepEqual(roundOrder(['ctrd'], 2), ['ctrd']);
});
