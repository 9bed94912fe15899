import { RemoteContentStore } from '@ctrd/client';
import { contentSuite } from '@ctrd/content/testsuite';
import { startTestServer } from './test-server.js';

contentSuite('gRPC client over the content service', async () => {
  // Without a scheduler: the suite's blobs are unreferenced, and a collection would remove them.
  const srv = await startTestServer({ gc: false });
  const store = new RemoteContentStore(srv.conn);
  return {
    store,
    namespaced: (ns) => store.withScope({ namespace: ns }),
    cleanup: () => srv.close(),
  };
});
