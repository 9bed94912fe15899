import type { BlobDescriptor, CommitOptions, Info, Status, WriterOptions } from './types.js';

/**
 * ReaderAt reads one committed blob at any offset. The caller closes it; a blob deleted while
 * a reader is open stays readable through that reader.
 */
export interface ReaderAt {
  /** size of the blob in bytes. */
  readonly size: number;
  /**
   * Reads up to `buf.length` bytes at `offset` into `buf` and resolves to the count read, which is
   * short only at the end of the blob (0 at or past it). A negative offset is InvalidArgument.
   */
  readAt(buf: Uint8Array, offset: number): Promise<number>;
  /**
   * Streams `length` bytes from `offset` (to the end when `length` is absent, 0 or runs past it).
   * An offset past the end is OutOfRange, a negative one InvalidArgument. Each chunk is the
   * caller's: the reader neither reuses nor changes it once yielded, so the caller may keep it
   * or move its buffer to another thread.
   */
  stream(offset?: number, length?: number): AsyncIterable<Uint8Array>;
  /** Releases the reader; calling it twice is harmless. */
  close(): Promise<void>;
}

/** Provider opens readers on committed blobs. */
export interface Provider {
  /** Opens `desc.digest`; NotFound when the blob is absent, InvalidArgument for a malformed digest. */
  readerAt(desc: BlobDescriptor): Promise<ReaderAt>;
}

/**
 * Writer is one open ingest. It holds the ref's lock until `commit` or `close`; writes append at
 * the current offset and feed a running sha256.
 */
export interface Writer {
  /**
   * Appends `data` at the current offset. A write that cannot complete rejects and leaves the
   * offset where it was. The store may use `data` without copying it until the promise settles.
   */
  write(data: Uint8Array): Promise<void>;
  /**
   * Cuts the ingest back to `size` bytes and restarts the digest over what is left. Every store
   * supports 0 (start again); others may reject a non-zero size with NotImplemented.
   */
  truncate(size: number): Promise<void>;
  /** The digest of the bytes written so far (`sha256:<hex>`; the empty-input digest at offset 0). */
  digest(): string;
  /** The current state of the ingest. */
  status(): Promise<Status>;
  /**
   * Verifies and publishes the blob under its digest, then releases the writer (on failure too).
   * `size` (0 = unchecked) and `expected` (`''`/absent = unchecked) must match what was written,
   * else FailedPrecondition and the ingest stays for a retry or an abort. If the blob already
   * exists the ingest is discarded and the call rejects with AlreadyExists, which callers treat
   * as success.
   */
  commit(size: number, expected?: string, opts?: CommitOptions): Promise<void>;
  /**
   * Releases the lock and keeps the ingest for a later resume; harmless after commit or a second
   * close. Any other call on a released writer is FailedPrecondition.
   */
  close(): Promise<void>;
}

/** Ingester opens writers. */
export interface Ingester {
  /**
   * Opens or resumes the ingest `opts.ref`: a resumed writer starts at the offset already
   * written. A ref held by another open writer is Unavailable (retry later, see `openWriter`);
   * an empty ref is InvalidArgument; an `expected` blob that exists already is AlreadyExists.
   */
  writer(opts: WriterOptions): Promise<Writer>;
}

/** IngestManager inspects and cancels ingests. */
export interface IngestManager {
  /** The status of ingest `ref`; NotFound if there is none. */
  status(ref: string): Promise<Status>;
  /** Every active ingest matching any of `filters` (field `ref`; none or `''` match all). */
  listStatuses(filters?: readonly string[]): Promise<Status[]>;
  /** Removes ingest `ref` and its data; NotFound if there is none. */
  abort(ref: string): Promise<void>;
}

/** Manager inspects, relabels, lists and removes committed blobs. */
export interface Manager {
  /** Info on blob `digest`; NotFound if absent. */
  info(digest: string): Promise<Info>;
  /**
   * Updates the mutable fields of blob `info.digest` and returns the result. With no
   * `fieldpaths` every label is replaced by `info.labels`; `labels` does the same;
   * `labels.<key>` sets that one key from `info.labels` (an absent or empty value deletes it).
   * Any other path is InvalidArgument. `updatedAt` moves to now.
   */
  update(info: Pick<Info, 'digest'> & Partial<Pick<Info, 'labels'>>, fieldpaths?: readonly string[]): Promise<Info>;
  /** Calls `fn` for every blob matching any of `filters` (fields `digest`, `size`, `labels.<key>`). */
  walk(fn: (info: Info) => void | Promise<void>, filters?: readonly string[]): Promise<void>;
  /** The blobs matching any of `filters`, as an async iterator. */
  list(filters?: readonly string[]): AsyncIterable<Info>;
  /** Removes blob `digest`; NotFound if absent. */
  delete(digest: string): Promise<void>;
}

/** ContentStore is a complete content store: every role above. */
export type ContentStore = Provider & Ingester & IngestManager & Manager;
