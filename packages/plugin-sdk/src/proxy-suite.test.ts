import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RemoteContentStore, RemoteSnapshotter } from '@ctrd/client';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { contentSuite, createMemoryContent, snapshotterSuite } from './testsuite/index.js';
import { serveContentStore, serveSnapshotter } from './index.js';

// The suites through the served services: what a daemon sees of a proxy plugin.
// The backend passes the full-depth stack in its own run; here the point is the transport, so
// the deep-stack case stacks 16 layers unless CTRD_STRESS asks for containerd's 128.
snapshotterSuite('native served by serveSnapshotter', async (root) => {
  const sn = await createNativeSnapshotter(join(root, 'native'));
  const srv = await serveSnapshotter(sn, join(root, 'sn.sock'));
  const conn = connect(srv.address, { namespace: '' });
  return {
    snapshotter: new RemoteSnapshotter(conn, 'native'),
    async cleanup() {
      conn.close();
      await srv.close();
      await sn.close();
    },
  };
}, { layerCount: process.env.CTRD_STRESS ? undefined : 16 });

contentSuite('memory store served by serveContentStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-sdk-content-'));
  const srv = await serveContentStore(createMemoryContent().namespace('only'), join(dir, 'cs.sock'));
  const conn = connect(srv.address, { namespace: '' });
  return {
    store: new RemoteContentStore(conn),
    async cleanup() {
      conn.close();
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
