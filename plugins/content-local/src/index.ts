/**
 * `@ctrd/content-local` is the local content store (plugin `io.containerd.content.v1.content`):
 * blobs as plain files named by digest, ingests as directories named by the hash of their ref,
 * in containerd's layout so either daemon can read the other's root.
 *
 * ```
 * <root>/
 * ├── blobs/sha256/<hex>              committed blobs, read-only, never rewritten
 * ├── info/sha256/<hex>.json          sidecar per blob: {"createdAt","updatedAt","labels"}
 * └── ingest/<sha256(ref)>/           one ingest (upload in progress)
 *     ├── data                        the bytes written so far; its size is the offset
 *     ├── ref                         the ref itself
 *     ├── startedat, updatedat        RFC 3339 times (updatedat rewritten when a writer closes)
 *     ├── total                       declared size, when one was given
 *     └── expected                    declared digest, when one was given (containerd keeps it in metadata)
 * ```
 *
 * Labels: containerd's local store keeps none (the metadata store holds them); this one also
 * works standalone, so a blob with labels has a small JSON sidecar under `info/` with its labels
 * and times. A blob without a sidecar (committed without labels, as the metadata store commits,
 * or copied from containerd) has no labels and takes both times from its mtime.
 *
 * Writes: each `write` goes straight to the data file with a positional write while the same
 * buffer feeds a running sha256 (no copies). Commit fsyncs the data, checks size and digest,
 * writes the sidecar durably (or, without labels, removes a stale one), makes the file
 * read-only, renames it to `blobs/sha256/<hex>` and fsyncs that directory. A crash at any point therefore leaves either no blob or the complete,
 * verified one; at worst an ingest to resume or a sidecar without its blob, which the next commit
 * of that digest replaces.
 *
 * Resume: reopening a ref re-hashes its data file to rebuild the digest state (sha256 state
 * cannot be saved portably) and continues at the end. Only one writer per ref at a time within
 * the process (`ref <ref> locked for <duration> (since <time>)`, Unavailable); like containerd,
 * nothing locks a ref against another process.
 *
 * @packageDocumentation
 */
export { createLocalStore } from './local-store.js';
export type { LocalContentStore, LocalStoreOptions } from './local-store.js';
export { contentLocalPlugins, localContentPlugin } from './plugin.js';
