#!/usr/bin/env node
// Throughput of the snapshotters' record store (@ctrd/snapshots/storage MetaStore), the metadata
// every snapshot Prepare, Commit and Remove writes: N sequential one-record updates on a fresh
// store, then single updates and removes on a store of BIG records, then reopening that store.
// Usage: node bench/dist/metastore-throughput.js [N=2000] [BIG=10000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kind } from '@ctrd/snapshots';
import { MetaStore } from '@ctrd/snapshots/storage';

const n = Number(process.argv[2] ?? 2000);
const big = Number(process.argv[3] ?? 10000);
const dir = mkdtempSync(join(tmpdir(), 'ctrd-metastore-bench-'));

async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}
const fmt = (r: { wall: number; cpu: number }, per = 1) => `wall ${(r.wall / per).toFixed(3)} ms, cpu ${(r.cpu / per).toFixed(3)} ms`;
const ref = (i: number) => ({ labels: { 'containerd.io/snapshot.ref': `sha256:${i}` } });

try {
  const seq = await MetaStore.open(join(dir, 'seq.json'));
  const r1 = await timed(async () => {
    for (let i = 0; i < n; i++) await seq.update((tx) => tx.createSnapshot(Kind.Active, `k${i}`, undefined, ref(i)));
  });
  await seq.close();
  process.stdout.write(`${n} sequential one-record updates: total ${fmt(r1)}; per update ${fmt(r1, n)}\n`);

  const store = await MetaStore.open(join(dir, 'big.json'));
  await store.update((tx) => {
    for (let i = 0; i < big; i++) tx.createSnapshot(Kind.Active, `b${i}`, undefined, ref(i));
  });
  const first = await timed(() => store.update((tx) => tx.createSnapshot(Kind.Active, 'one', undefined)));
  const m = 50;
  const next = await timed(async () => {
    for (let i = 0; i < m; i++) await store.update((tx) => tx.createSnapshot(Kind.Active, `x${i}`, undefined));
  });
  // Each Remove checks that no record names the removed one as its parent.
  const removed = await timed(async () => {
    for (let i = 0; i < m; i++) await store.update((tx) => tx.remove(`b${i}`));
  });
  await store.close();
  process.stdout.write(`store of ${big} records: first update ${fmt(first)}; mean of the next ${m}: ${fmt(next, m)}; mean of ${m} removes: ${fmt(removed, m)}\n`);
  const reopen = await timed(async () => (await MetaStore.open(join(dir, 'big.json'))).close());
  process.stdout.write(`open of the ${big + 1}-record store: ${fmt(reopen)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
