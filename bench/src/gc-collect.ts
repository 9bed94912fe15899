#!/usr/bin/env node
// Time of one garbage collection of the metadata store (@ctrd/metadata-level) on disk: one
// namespace of N images, each a manifest blob that references a config and three layers through
// `containerd.io/gc.ref.content.*` labels, all reachable, so a collection marks everything and
// removes nothing. The metadata part of a collection holds the write lock: every write waits for it.
// Usage: node bench/dist/gc-collect.js [N=1000] [ROUNDS=5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS, openMetadataDB } from '@ctrd/metadata-level';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'ctrd-gc-bench-'));

/** digest makes a distinct, well-formed sha256 digest from a short name. */
const digest = (name: string) => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`;

try {
  const db = await openMetadataDB(join(dir, 'meta'));
  const now = new Date().toISOString();
  const ops: Array<{ type: 'put'; key: string; value: string }> = [];
  const put = (key: string, value: unknown) => ops.push({ type: 'put', key, value: JSON.stringify(value) });
  put(KEYS.namespace('bench'), { labels: {} });
  for (let i = 0; i < n; i++) {
    const manifest = digest(`m${i}`);
    const config = digest(`c${i}`);
    const layers = [0, 1, 2].map((j) => digest(`l${i}.${j}`));
    const refs: Record<string, string> = { 'containerd.io/gc.ref.content.config': config };
    layers.forEach((l, j) => (refs[`containerd.io/gc.ref.content.l.${j}`] = l));
    for (const [d, labels] of [[manifest, refs], [config, {}], ...layers.map((l) => [l, {}] as const)] as const) {
      put(KEYS.blob('bench', d), { size: 1, labels, createdAt: now, updatedAt: now });
    }
    put(KEYS.image('bench', `img-${i}`), { labels: {}, target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest, size: 1 }, createdAt: now, updatedAt: now });
  }
  await db.core.db.batch(ops, { keyEncoding: 'utf8', valueEncoding: 'utf8' });

  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const stats = await db.gc.collect();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (stats.removed.content !== 0) throw new Error(`a collection removed ${stats.removed.content} reachable blobs`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(
    `${n} images, ${ops.length} records: collect median ${median(wall).toFixed(1)} ms wall, ${median(cpu).toFixed(1)} ms cpu ` +
      `(each: ${wall.map((w) => w.toFixed(1)).join(' ')})`,
  );
  await db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
