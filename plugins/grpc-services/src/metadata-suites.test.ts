import { RemoteContainerStore, RemoteContentStore, RemoteImageStore, RemoteLeaseManager, RemoteNamespaceStore } from '@ctrd/client';
import { digestFromBytes, writeBlob } from '@ctrd/content';
import {
  containerStoreSuite,
  imageStoreSuite,
  leaseManagerSuite,
  namespaceStoreSuite,
  type MetadataFixture,
} from '@ctrd/metadata/testsuite';
import { startTestServer } from './test-server.js';

async function grpcFixture(): Promise<MetadataFixture> {
  // Without a scheduler, so nothing the suites create is collected behind their backs.
  const srv = await startTestServer({ gc: false });
  const content = new RemoteContentStore(srv.conn);
  return {
    namespaces: new RemoteNamespaceStore(srv.conn),
    images: new RemoteImageStore(srv.conn),
    containers: new RemoteContainerStore(srv.conn),
    leases: new RemoteLeaseManager(srv.conn),
    async addBlob(namespace, data) {
      const digest = digestFromBytes(data);
      await writeBlob(content.withScope({ namespace }), `blob-${digest}`, data, { digest, size: data.length });
      return digest;
    },
    close: () => srv.close(),
  };
}

imageStoreSuite('gRPC client', grpcFixture);
containerStoreSuite('gRPC client', grpcFixture);
namespaceStoreSuite('gRPC client', grpcFixture);
leaseManagerSuite('gRPC client', grpcFixture);
