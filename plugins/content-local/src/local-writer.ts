import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { DataLossError, FailedPreconditionError, InvalidArgumentError } from '@ctrd/errdefs';
import { validateDigest, validateLabels, type CommitOptions, type Status, type Writer } from '@ctrd/content';
import { type IngestPaths, writeUpdatedAt } from './ingest.js';
import { isENOENT } from './fsutil.js';
import { fault } from '@ctrd/fault';

/** WriterHost is what a LocalWriter needs from its store. */
export interface WriterHost {
  /** Publishes the verified, synced data file of `paths` as blob `digest` (AlreadyExists if present). */
  publish(ref: string, paths: IngestPaths, digest: string, labels: Record<string, string> | undefined): Promise<void>;
  /** Buffer size for re-hashing an ingest. */
  readonly chunkSize: number;
}

/** WriterState is an open ingest as a LocalWriter starts from. */
export interface WriterState {
  ref: string;
  paths: IngestPaths;
  fh: FileHandle;
  hash: Hash;
  offset: number;
  total: number;
  expected: string;
  startedAt: Date;
  updatedAt: Date;
  release: () => void;
  /** labels given at open, used when the commit gives none. */
  labels?: Record<string, string>;
}

/**
 * rehash feeds the first `length` bytes of `fh` into a fresh sha256 and returns it with the count
 * actually read; it is how a resumed or truncated ingest gets its digest state back.
 */
export async function rehash(fh: FileHandle, length: number, chunkSize: number): Promise<{ hash: Hash; read: number }> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(chunkSize);
  let pos = 0;
  while (pos < length) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - pos), pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return { hash, read: pos };
}

/** EARLY_FLUSH_BYTES is how much a writer writes before it starts flushing it to disk. */
const EARLY_FLUSH_BYTES = 16 * 1024 * 1024;

/**
 * LocalWriter appends to an ingest's data file with positional writes and keeps a running
 * sha256 of exactly the bytes written, so commit never re-reads the data. Calls are queued, so
 * un-awaited writes still land in call order.
 */
export class LocalWriter implements Writer {
  #s: WriterState;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #digest: string | undefined;
  /** bytes written since the last early flush started. */
  #unflushed = 0;
  /** the early flush in flight, if any; it settles to the error it met, if any. */
  #flushing: Promise<unknown> | undefined;
  /** an error an early flush met: the commit must fail with it, the kernel reports it only once. */
  #flushError: unknown;

  constructor(
    state: WriterState,
    private readonly host: WriterHost,
  ) {
    this.#s = state;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #open(): WriterState {
    if (this.#closed) throw new FailedPreconditionError(`writer for ref ${this.#s.ref} is closed`);
    return this.#s;
  }

  write(data: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      const s = this.#open();
      const before = s.hash.copy();
      // Hashing runs on this thread while the write runs in the thread pool.
      const written = this.#writeFully(s, data);
      s.hash.update(data);
      this.#digest = undefined;
      try {
        await written;
      } catch (err) {
        s.hash = before;
        await s.fh.truncate(s.offset).catch(() => undefined);
        throw err;
      }
      s.offset += data.length;
      s.updatedAt = new Date();
      this.#unflushed += data.length;
      if (this.#unflushed >= EARLY_FLUSH_BYTES && this.#flushing === undefined) this.#flushEarly(s.fh);
      fault('content.write');
    });
  }

  /**
   * #flushEarly starts writing the data to disk while the upload goes on (an fdatasync on the
   * thread pool, not awaited), so the fsync at commit finds little left to do: for a 256 MiB blob
   * that fsync alone took ~150 ms at the end of the upload. Its error is kept for the commit.
   */
  #flushEarly(fh: FileHandle): void {
    this.#unflushed = 0;
    this.#flushing = fh.datasync().then(
      () => (this.#flushing = undefined),
      (err: unknown) => {
        this.#flushError ??= err;
        this.#flushing = undefined;
      },
    );
  }

  /** #flushed waits for an early flush in flight and throws the error any of them met. */
  async #flushed(): Promise<void> {
    await this.#flushing;
    if (this.#flushError !== undefined) throw this.#flushError;
  }

  async #writeFully(s: WriterState, data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await s.fh.write(data, done, data.length - done, s.offset + done);
      if (bytesWritten === 0) throw new DataLossError(`wrote ${done} of ${data.length} bytes`);
      done += bytesWritten;
    }
  }

  truncate(size: number): Promise<void> {
    return this.#serial(async () => {
      const s = this.#open();
      if (!Number.isSafeInteger(size) || size < 0 || size > s.offset) {
        throw new InvalidArgumentError(`cannot truncate ref ${s.ref} to ${size} bytes (offset ${s.offset})`);
      }
      await s.fh.truncate(size);
      const { hash } = await rehash(s.fh, size, this.host.chunkSize);
      s.hash = hash;
      s.offset = size;
      s.updatedAt = new Date();
      this.#digest = undefined;
    });
  }

  digest(): string {
    this.#digest ??= `sha256:${this.#s.hash.copy().digest('hex')}`;
    return this.#digest;
  }

  async status(): Promise<Status> {
    const s = this.#s;
    return { ref: s.ref, offset: s.offset, total: s.total, expected: s.expected, startedAt: s.startedAt, updatedAt: s.updatedAt };
  }

  commit(size: number, expected?: string, opts: CommitOptions = {}): Promise<void> {
    return this.#serial(async () => {
      const s = this.#open();
      this.#closed = true;
      const labels = opts.labels ?? s.labels;
      try {
        validateLabels(labels);
        if (expected) validateDigest(expected);
        await this.#flushed();
        const [, st] = await Promise.all([s.fh.sync(), s.fh.stat()]);
        await s.fh.close();
        if (st.size !== s.offset) throw new DataLossError(`ingest ${s.ref} holds ${st.size} bytes, ${s.offset} were written`);
        if (size > 0 && size !== s.offset) {
          throw new FailedPreconditionError(`unexpected commit size ${s.offset}, expected ${size}`);
        }
        const actual = this.digest();
        if (expected && expected !== actual) {
          throw new FailedPreconditionError(`unexpected commit digest ${actual}, expected ${expected}`);
        }
        await this.host.publish(s.ref, s.paths, actual, labels);
      } finally {
        await this.#flushing;
        await s.fh.close().catch(() => undefined);
        s.release();
      }
    });
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      const s = this.#s;
      try {
        await this.#flushing;
        await s.fh.sync();
        await s.fh.close();
        await writeUpdatedAt(s.paths, s.updatedAt).catch((err: unknown) => {
          // The ingest may have been aborted under this writer.
          if (!isENOENT(err)) throw err;
        });
      } finally {
        await this.#flushing;
        await s.fh.close().catch(() => undefined);
        s.release();
      }
    });
  }
}
