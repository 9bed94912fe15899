import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentSuite } from '@ctrd/content/testsuite';
import { createLocalStore } from './local-store.js';

contentSuite('local', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ctrd-content-local-'));
  const store = await createLocalStore(root);
  return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
});
