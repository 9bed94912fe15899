import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FailedPreconditionError, InvalidArgumentError, OutOfRangeError } from '@ctrd/errdefs';
import type { ReaderAt } from '@ctrd/content';
import { openBlob, type BlobHandles } from './blob-handles.js';

/** SYNC_READ_MAX is the largest readAt served by a synchronous read. */
const SYNC_READ_MAX = 64 * 1024;

function checkOffset(offset: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`${what}: invalid offset ${offset}`);
  }
}

/**
 * BlobReader reads one blob file through a single descriptor with positional reads, so any
 * number of readAt calls and streams may run at once. The descriptor may be shared with other
 * readers of the same blob (see {@link BlobHandles}); closing the reader releases its share.
 */
export class BlobReader implements ReaderAt {
  #fh: FileHandle | undefined;
  readonly #release: () => Promise<void> | void;

  private constructor(
    fh: FileHandle,
    readonly size: number,
    private readonly chunkSize: number,
    release: () => Promise<void> | void,
  ) {
    this.#fh = fh;
    this.#release = release;
  }

  /** open opens the blob at `path`; NotFound (`content digest <d>`) when it is absent. */
  static async open(path: string, digest: string, chunkSize: number): Promise<BlobReader> {
    const { fh, size } = await openBlob(path, digest);
    return new BlobReader(fh, size, chunkSize, () => fh.close());
  }


  /** shared reads the blob at `path` through the cached descriptor of `handles`. */
  static async shared(handles: BlobHandles, path: string, digest: string, chunkSize: number): Promise<BlobReader> {
    const h = await handles.acquire(path, digest);
    return new BlobReader(h.fh, h.size, chunkSize, h.release);
  }

  #handle(): FileHandle {
    if (this.#fh === undefined) throw new FailedPreconditionError('reader is closed');
    return this.#fh;
  }

  async readAt(buf: Uint8Array, offset: number): Promise<number> {
    checkOffset(offset, 'readAt');
    const fh = this.#handle();
    const want = Math.min(buf.length, Math.max(0, this.size - offset));
    let n = 0;
    if (want <= SYNC_READ_MAX) {
      // Small reads (a manifest, one 32 KiB Read call) come from the page cache in microseconds;
      // the thread-pool round trip of an async read costs more than the copy.
      while (n < want) {
        const bytesRead = readSync(fh.fd, buf, n, want - n, offset + n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return n;
    }
    while (n < want) {
      const { bytesRead } = await fh.read(buf, n, want - n, offset + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return n;
  }

  stream(offset = 0, length?: number): AsyncIterable<Uint8Array> {
    checkOffset(offset, 'stream');
    if (offset > this.size) throw new OutOfRangeError(`read past object length ${this.size} bytes`);
    const end = length === undefined || length <= 0 ? this.size : Math.min(this.size, offset + length);
    const fh = this.#handle();
    return this.#chunks(fh, offset, end);
  }

  async *#chunks(fh: FileHandle, from: number, end: number): AsyncGenerator<Uint8Array> {
    let pos = from;
    while (pos < end) {
      // A fresh buffer per chunk: the consumer may keep every chunk it was given.
      const buf = Buffer.allocUnsafe(Math.min(this.chunkSize, end - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (fh !== undefined) await this.#release();
  }
}
