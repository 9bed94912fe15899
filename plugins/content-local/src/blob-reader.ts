import { open, type FileHandle } from 'node:fs/promises';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, OutOfRangeError } from '@ctrd/errdefs';
import type { ReaderAt } from '@ctrd/content';
import { isENOENT } from './fsutil.js';

function checkOffset(offset: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`${what}: invalid offset ${offset}`);
  }
}

/**
 * BlobReader reads one blob file through a single descriptor with positional reads, so any
 * number of readAt calls and streams may run at once.
 */
export class BlobReader implements ReaderAt {
  #fh: FileHandle | undefined;

  private constructor(
    fh: FileHandle,
    readonly size: number,
    private readonly chunkSize: number,
  ) {
    this.#fh = fh;
  }

  /** open opens the blob at `path`; NotFound (`content digest <d>`) when it is absent. */
  static async open(path: string, digest: string, chunkSize: number): Promise<BlobReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (isENOENT(err)) throw new NotFoundError(`content digest ${digest}`, { cause: err });
      throw err;
    }
    try {
      const st = await fh.stat();
      return new BlobReader(fh, st.size, chunkSize);
    } catch (err) {
      await fh.close();
      throw err;
    }
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
    if (fh !== undefined) await fh.close();
  }
}
