import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo, Ring } from './ring.js';

test('Ring keeps the newest items, oldest first', () => {
  const r = new Ring<number>(3);
  assert.deepEqual([...r], []);
  for (let i = 1; i <= 7; i++) r.push(i);
  assert.equal(r.length, 3);
  assert.deepEqual([...r], [5, 6, 7]);
  r.clear();
  assert.deepEqual([...r], []);
  const none = new Ring<number>(0);
  none.push(1);
  assert.deepEqual([...none], []);
});

test('Fifo stays in order across compaction', () => {
  const q = new Fifo<number>();
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3000; i++) q.push(next++);
    for (let i = 0; i < 2500; i++) assert.equal(q.shift(), expect++);
  }
  assert.equal(q.length, next - expect);
  while (q.length > 0) assert.equal(q.shift(), expect++);
  assert.equal(q.shift(), undefined);
});
