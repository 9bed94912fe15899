/**
 * `@ctrd/content` is the content store contract: blobs addressed by digest, written through
 * resumable ingests. It holds no disk code; the local store lives in `@ctrd/content-local`, and
 * `@ctrd/content/testsuite` is the conformance suite every implementation runs.
 *
 * Terms:
 * - **blob**: immutable bytes stored under their digest (`sha256:<64 hex>`, the only algorithm).
 *   `Info` adds the size, created/updated times and labels (the only mutable part).
 * - **ingest**: an upload in progress, named by a caller-chosen **ref**. It survives its writer:
 *   closing a writer keeps the data, and a later `writer({ ref })` resumes at the same offset.
 *   One writer holds a ref at a time; a second gets Unavailable (`openWriter` retries).
 * - **commit**: verifies the ingest's size and digest against what the caller expects
 *   (FailedPrecondition if not), then publishes it atomically under its digest. A digest that is
 *   already stored gives AlreadyExists, which callers treat as success.
 *
 * A pull of one layer, as ctr's `content fetch` does it:
 * ```ts
 * const w = await openWriter(store, { ref: 'layer-sha256:…', total: desc.size, expected: desc.digest });
 * // AlreadyExists here means the layer is present: done.
 * const { offset } = await w.status();          // > 0 when an earlier pull was cut off
 * for await (const chunk of fetchFrom(offset)) await w.write(chunk);
 * await w.commit(desc.size, desc.digest, { labels });  // then w is released
 * ```
 *
 * Filters (`list`, `walk`, `listStatuses`) use the `@ctrd/filters` grammar; several filter
 * strings are alternatives, and none matches everything. Blob fields: `digest`, `size`,
 * `labels.<key>`; ingest field: `ref`.
 *
 * @packageDocumentation
 */
export type { BlobDescriptor, CommitOptions, Info, Status, WriterOptions } from './types.js';
export type { IngestManager, Ingester, Manager, Provider, ReaderAt, Writer } from './store.js';
export { ContentStore } from './token.js';
export { EMPTY_DIGEST, digestFromBytes, parseDigest, validateDigest } from './digest.js';
export type { DigestAlgorithm, ParsedDigest } from './digest.js';
export { MAX_LABEL_SIZE, validateLabel, validateLabels } from './labels.js';
export { applyLabelUpdate } from './update.js';
export { adaptInfo, adaptStatus, parseFilters } from './adaptors.js';
export { openWriter, readBlob, writeBlob } from './helpers.js';
export type { RetryOptions } from './helpers.js';
