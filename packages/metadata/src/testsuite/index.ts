/**
 * `@ctrd/metadata/testsuite` holds the conformance suites every metadata implementation runs:
 * the LevelDB stores, and later the same contracts reached through the gRPC client. The suites use
 * only the contracts in `@ctrd/metadata`, so anything that implements them can be checked.
 *
 * ```ts
 * imageStoreSuite('level', async () => fixtureFor(await openMetadataDB(new MemoryLevel())));
 * ```
 *
 * @packageDocumentation
 */
export { containerStoreSuite } from './container-store-suite.js';
export { imageStoreSuite } from './image-store-suite.js';
export { leaseManagerSuite } from './lease-manager-suite.js';
export { namespaceStoreSuite } from './namespace-store-suite.js';
export {
  errorCode,
  errorOf,
  sampleDigest,
  withFixture,
  type MetadataFixture,
  type MetadataFixtureFactory,
} from './fixture.js';
