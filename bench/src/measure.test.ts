import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BenchDaemon } from './daemons.js';
import { measureRow, roundOrder } from './measure.js';
import type { BenchContext, Workload } from './workloads.js';

test('roundOrder puts each daemon second in every other round', () => {
  const order = [1, 2, 3, 4].map((n) => roundOrder(['containerd', 'ctrd'], n).join(' '));
  assert.deepEqual(order, ['containerd ctrd', 'ctrd containerd', 'containerd ctrd', 'ctrd containerd']);
  assert.deepEqual(roundOrder(['ctrd'], 2), ['ctrd']);
});

test('measureRow keeps the median of a round\'s samples, taken in alternating pairs with numbers of their own', async () => {
  const daemons = [{ kind: 'containerd' }, { kind: 'ctrd' }] as unknown as BenchDaemon[];
  const seen: string[] = [];
  // containerd's samples: 10, 30, 20 in each round; ctrd's: its sample number.
  const w: Workload = {
    id: 'fake',
    title: 'fake',
    unit: 'ms',
    cpu: false,
    samplesPerRound: 3,
    detail: () => 'fake row',
    sample(d, _ctx, n) {
      seen.push(`${d.kind}:${n}`);
      return d.kind === 'containerd' ? [20, 10, 30, 20][n % 3 === 0 ? 0 : n % 3]! : n;
    },
  };
  const row = await measureRow(w, daemons, {} as BenchContext, 2, () => {});
  assert.deepEqual(seen, [
    'containerd:0', 'ctrd:0',
    'containerd:1', 'ctrd:1', 'ctrd:2', 'containerd:2', 'containerd:3', 'ctrd:3',
    'ctrd:4', 'containerd:4', 'containerd:5', 'ctrd:5', 'ctrd:6', 'containerd:6',
  ]);
  assert.deepEqual(row.containerd, [20, 20]);
  assert.deepEqual(row.ctrd, [2, 5]);
  assert.deepEqual(row.ratio, [0.1, 0.25]);
  assert.equal(row.detail, 'fake row; a round: the median of 3 samples');
});
