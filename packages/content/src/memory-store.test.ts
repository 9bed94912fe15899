import { contentSuite, createMemoryContent } from './testsuite/index.js';

// Runs the suite against the in-memory reference store, which also exercises the namespace cases.
contentSuite('memory', async () => {
  const mem = createMemoryContent();
  return { store: mem.namespace('default'), cleanup: async () => {}, namespaced: (ns) => mem.namespace(ns) };
});
