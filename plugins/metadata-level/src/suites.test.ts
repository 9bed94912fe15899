import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentSuite } from '@ctrd/content/testsuite';
import { createLocalStore } from '@ctrd/content-local';
import {
  containerStoreSuite,
  imageStoreSuite,
  leaseManagerSuite,
  namespaceStoreSuite,
} from '@ctrd/metadata/testsuite';
import { MemoryLevel } from 'memory-level';
import { openMetadataDB } from './metadata-db.js';
import { metadataFixture } from './fixture-db.js';

imageStoreSuite('level', metadataFixture);
containerStoreSuite('level', metadataFixture);
namespaceStoreSuite('level', metadataFixture);
leaseManagerSuite('level', metadataFixture);

contentSuite('metadata-level namespaced', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ctrd-metadata-content-'));
  const db = await openMetadataDB(new MemoryLevel<string, string>());
  const wrapped = db.contentStore(await createLocalStore(root));
  return {
    store: wrapped.forNamespace('default'),
    namespaced: (ns) => wrapped.forNamespace(ns),
    cleanup: async () => {
      await db.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});
