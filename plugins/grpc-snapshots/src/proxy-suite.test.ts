import { RemoteSnapshotter } from '@ctrd/client';
import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { startTestServer } from './test-server.js';

// The conformance suite through the gRPC proxy: client, Snapshots service, metadata, native backend.
// The backend passes the full-depth stack in its own run; here the point is the transport, so
// the deep-stack case stacks 16 layers unless CTRD_STRESS asks for containerd's 128.
snapshotterSuite('gRPC proxy over metadata-level native', async (root) => {
  const srv = await startTestServer(root);
  return { snapshotter: new RemoteSnapshotter(srv.connect(), 'native'), cleanup: () => srv.close() };
}, { layerCount: process.env.CTRD_STRESS ? undefined : 16 });
