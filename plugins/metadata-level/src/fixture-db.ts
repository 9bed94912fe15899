import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestFromBytes, writeBlob } from '@ctrd/content';
import { createLocalStore } from '@ctrd/content-local';
import type { MetadataFixture } from '@ctrd/metadata/testsuite';
import { MemoryLevel } from 'memory-level';
import { KEYS } from './keys.js';
import type { LevelDatabase } from './kv.js';
import { openMetadataDB, type MetadataDB, type MetadataDBOptions } from './metadata-db.js';
import type { NamespacedContentStore } from './namespaced-content.js';
import type { SnapshotRecord } from './records.js';

/** TestDB is an in-memory metadata database over a local content store in a temporary directory. */
export interface TestDB {
  db: MetadataDB;
  level: LevelDatabase;
  content: NamespacedContentStore;
  /** putSnapshot writes a snapshot record directly, standing in for the snapshot layer. */
  putSnapshot(ns: string, snapshotter: string, key: string, rec?: Partial<SnapshotRecord>): Promise<void>;
  hasSnapshot(ns: string, snapshotter: string, key: string): Promise<boolean>;
  /** addBlob writes `data` into namespace `ns` and returns its digest. */
  addBlob(ns: string, data: Uint8Array | string, labels?: Record<string, string>, lease?: string): Promise<string>;
  close(): Promise<void>;
}

/** openTestDB makes a fresh {@link TestDB}. */
export async function openTestDB(opts: MetadataDBOptions = {}): Promise<TestDB> {
  const root = await mkdtemp(join(tmpdir(), 'ctrd-metadata-level-'));
  const level = new MemoryLevel<string, string>();
  const db = await openMetadataDB(level, opts);
  const content = db.contentStore(await createLocalStore(join(root, 'content')));
  return {
    db,
    level,
    content,
    async putSnapshot(ns, snapshotter, key, rec = {}) {
      const now = new Date().toISOString();
      const value: SnapshotRecord = { name: `${ns}/1/${key}`, kind: 'active', labels: {}, createdAt: now, updatedAt: now, ...rec };
      await level.batch([
        { type: 'put', key: KEYS.namespace(ns), value: (await level.get(KEYS.namespace(ns))) ?? '{"labels":{}}' },
        { type: 'put', key: KEYS.snapshot(ns, snapshotter, key), value: JSON.stringify(value) },
      ]);
    },
    async hasSnapshot(ns, snapshotter, key) {
      return (await level.get(KEYS.snapshot(ns, snapshotter, key))) !== undefined;
    },
    async addBlob(ns, data, labels, lease) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const digest = digestFromBytes(bytes);
      await writeBlob(content.forNamespace(ns, { lease }), `blob-${digest}`, bytes, { digest, size: bytes.length }, { labels });
      return digest;
    },
    async close() {
      await db.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** metadataFixture adapts a fresh {@link TestDB} to the conformance suites' fixture. */
export async function metadataFixture(): Promise<MetadataFixture> {
  const t = await openTestDB();
  return {
    namespaces: t.db.namespaces,
    images: t.db.images,
    containers: t.db.containers,
    leases: t.db.leases,
    addBlob: (ns, data) => t.addBlob(ns, data),
    addSnapshot: (ns, snapshotter, key) => t.putSnapshot(ns, snapshotter, key),
    close: () => t.close(),
  };
}
