import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveContentStore, serveSnapshotter } from '@ctrd/plugin-sdk';
import { contentSuite, createMemoryContent, snapshotterSuite } from '@ctrd/plugin-sdk/testsuite';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { ProxyClients } from './proxy-clients.js';
import { ProxyContentStore } from './proxy-content-store.js';
import { ProxySnapshotter } from './proxy-snapshotter.js';

// The conformance suites through the proxy clients, against served backends on a socket.
// The backend passes the full-depth stack in its own run; here the point is the transport, so
// the deep-stack case stacks 16 layers unless CTRD_STRESS asks for containerd's 128.
snapshotterSuite('proxy plugin over a served native snapshotter', async (root) => {
  const backend = await createNativeSnapshotter(join(root, 'native'));
  const srv = await serveSnapshotter(backend, join(root, 'sn.sock'));
  const clients = new ProxyClients();
  return {
    snapshotter: new ProxySnapshotter(clients.acquire(srv.address), 'native'),
    async cleanup() {
      clients.release(srv.address);
      await srv.close();
      await backend.close();
    },
  };
}, { layerCount: process.env.CTRD_STRESS ? undefined : 16 });

contentSuite('proxy plugin over a served content store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-proxy-content-'));
  const srv = await serveContentStore(createMemoryContent().namespace('any'), join(dir, 'cs.sock'));
  const clients = new ProxyClients();
  return {
    store: new ProxyContentStore(clients.acquire(srv.address)),
    async cleanup() {
      clients.release(srv.address);
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
