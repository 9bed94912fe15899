/**
 * `@ctrd/plugin-sdk/testsuite` gives an out-of-tree plugin the conformance suites ctrd's own
 * backends run, to call at the top level of a `*.test.ts` file under `node --test`:
 * ```ts
 * import { snapshotterSuite } from '@ctrd/plugin-sdk/testsuite';
 * snapshotterSuite('mine', async (root) => ({ snapshotter: await open(root) }));
 * ```
 * Cases that mount are skipped with the reason when not running as root.
 *
 * @packageDocumentation
 */
export {
  snapshotterSuite,
  SNAPSHOTTER_SUITE_CASES,
  LAYER_COUNT,
  GC_ROOT,
  fstest,
  type SuiteCase as SnapshotterSuiteCase,
  type SuiteFactory as SnapshotterSuiteFactory,
  type SuiteFixture as SnapshotterSuiteFixture,
  type SuiteOptions as SnapshotterSuiteOptions,
} from '@ctrd/snapshots/testsuite';
export {
  contentSuite,
  CONTENT_SUITE_CASES,
  NAMESPACE_SUITE_CASES,
  createMemoryContent,
  type MemoryContent,
  type SuiteCase as ContentSuiteCase,
  type SuiteFactory as ContentSuiteFactory,
  type SuiteFixture as ContentSuiteFixture,
} from '@ctrd/content/testsuite';
