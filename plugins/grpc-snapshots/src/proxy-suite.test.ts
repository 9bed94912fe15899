import { RemoteSnapshotter } from '@ctrd/client';
import { snapshotterSuite } from '@ctrd/snapshots/testsuite';
import { startTestServer } from './test-server.js';

// The conformance suite through the gRPC proxy: client, Snapshots service, metadata, native backend.
snapshotterSuite('gRPC proxy over metadata-level native', async (root) => {
  const srv = await startTestServer(root);
  return { snapshotter: new RemoteSnapshotter(srv.connect(), 'native'), cleanup: () => srv.close() };
});
