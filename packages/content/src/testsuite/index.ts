/**
 * `@ctrd/content/testsuite` is the conformance suite every content store runs: the local store,
 * the metadata-wrapped store and the gRPC client. Call `contentSuite(name, factory)` at the top
 * level of a `*.test.ts` file; each case gets a fresh fixture from `factory` and cleans it up.
 * `createMemoryContent` is an in-memory, namespaced store for the tests of code built on a store.
 *
 * @packageDocumentation
 */
import { describe, test } from 'node:test';
import { commitCases } from './commit-cases.js';
import type { SuiteCase, SuiteFactory } from './harness.js';
import { managerCases } from './manager-cases.js';
import { namespaceCases } from './namespace-cases.js';
import { readerCases } from './reader-cases.js';
import { writerCases } from './writer-cases.js';

export type { SuiteCase, SuiteFactory, SuiteFixture } from './harness.js';
export { createMemoryContent, type MemoryContent } from './memory-store.js';

/** CONTENT_SUITE_CASES lists the cases of contentSuite that need no namespaces. */
export const CONTENT_SUITE_CASES: readonly SuiteCase[] = [...writerCases, ...commitCases, ...managerCases, ...readerCases];

/** NAMESPACE_SUITE_CASES lists the cases that need the fixture's `namespaced`. */
export const NAMESPACE_SUITE_CASES: readonly SuiteCase[] = namespaceCases;

/**
 * contentSuite registers the content store conformance cases under `describe(name)`. The
 * namespace cases run when the fixture offers `namespaced` and are skipped with the reason
 * otherwise.
 */
export function contentSuite(name: string, factory: SuiteFactory): void {
  describe(`content suite: ${name}`, () => {
    for (const c of CONTENT_SUITE_CASES) {
      test(c.name, async (t) => {
        const fx = await factory();
        try {
          await c.run(fx, t);
        } finally {
          await fx.cleanup();
        }
      });
    }
    for (const c of NAMESPACE_SUITE_CASES) {
      test(c.name, async (t) => {
        const fx = await factory();
        try {
          if (fx.namespaced === undefined) {
            t.skip(`${name} is not namespaced`);
            return;
          }
          await c.run(fx, t);
        } finally {
          await fx.cleanup();
        }
      });
    }
  });
}
