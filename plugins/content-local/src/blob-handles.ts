import { open, type FileHandle } from 'node:fs/promises';
import { NotFoundError } from '@ctrd/errdefs';
import { isENOENT } from './fsutil.js';

/** BlobHandle is one open blob file shared by its readers: release it once per acquire. */
export interface BlobHandle {
  readonly fh: FileHandle;
  readonly size: number;
  release(): void;
}

interface Entry {
  opening: Promise<{ fh: FileHandle; size: number }>;
  refs: number;
  timer?: NodeJS.Timeout;
  /** evicted entries are out of the map: their descriptor closes with the last reader. */
  evicted: boolean;
}

/** BlobHandlesOptions tune a {@link BlobHandles} cache. */
export interface BlobHandlesOptions {
  /** how long a descriptor nobody reads stays open; 2 s by default. */
  idleMs?: number;
  /** the most descriptors kept open while idle; 64 by default. */
  maxIdle?: number;
}

/**
 * BlobHandles keeps the descriptors of recently read blobs open for a short while. Clients read a
 * blob in many small calls (containerd's `ctr content get` sends one Read per 32 KiB), and
 * opening, stat-ing and closing the file on every call cost more than the read itself. Committed
 * blobs are never rewritten, so a cached descriptor always holds the blob's bytes; `evict` (called
 * on delete) closes it once its last reader is done, so a deleted blob is never served again.
 */
export class BlobHandles {
  readonly #entries = new Map<string, Entry>();
  readonly #idleMs: number;
  readonly #maxIdle: number;
  #idle = 0;

  constructor(opts: BlobHandlesOptions = {}) {
    this.#idleMs = opts.idleMs ?? 2000;
    this.#maxIdle = opts.maxIdle ?? 64;
  }

  /** acquire opens (or shares) the blob at `path`; NotFound (`content digest <d>`) when it is absent. */
  async acquire(path: string, digest: string): Promise<BlobHandle> {
    let e = this.#entries.get(path);
    if (e === undefined) {
      const entry: Entry = { opening: openBlob(path, digest), refs: 0, evicted: false };
      this.#entries.set(path, entry);
      // A failed open is not remembered: the next reader tries again.
      entry.opening.catch(() => {
        if (this.#entries.get(path) === entry) this.#entries.delete(path);
      });
      e = entry;
    }
    if (e.refs === 0 && e.timer !== undefined) this.#wake(e);
    e.refs++;
    let opened: { fh: FileHandle; size: number };
    try {
      opened = await e.opening;
    } catch (err) {
      e.refs--;
      throw err;
    }
    const entry = e;
    let released = false;
    return {
      fh: opened.fh,
      size: opened.size,
      release: () => {
        if (released) return;
        released = true;
        this.#release(path, entry);
      },
    };
  }

  /** evict drops the cached descriptor of `path`; readers holding it finish first. */
  evict(path: string): void {
    const e = this.#entries.get(path);
    if (e === undefined) return;
    this.#entries.delete(path);
    e.evicted = true;
    if (e.timer !== undefined) this.#wake(e);
    if (e.refs === 0) this.#close(e);
  }

  #release(path: string, e: Entry): void {
    if (--e.refs > 0) return;
    if (e.evicted) {
      this.#close(e);
      return;
    }
    e.timer = setTimeout(() => this.evict(path), this.#idleMs);
    e.timer.unref();
    this.#idle++;
    if (this.#idle > this.#maxIdle) this.#evictOldestIdle();
  }

  #wake(e: Entry): void {
    clearTimeout(e.timer);
    e.timer = undefined;
    this.#idle--;
  }

  #evictOldestIdle(): void {
    // Map order is insertion order, so the first idle entry found is the oldest opened.
    for (const [path, e] of this.#entries) {
      if (e.refs === 0 && e.timer !== undefined) {
        this.evict(path);
        return;
      }
    }
  }

  #close(e: Entry): void {
    e.opening.then(({ fh }) => fh.close()).catch(() => undefined);
  }
}

/** openBlob opens the blob at `path` and reads its size; NotFound (`content digest <d>`) when it is absent. */
export async function openBlob(path: string, digest: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (isENOENT(err)) throw new NotFoundError(`content digest ${digest}`, { cause: err });
    throw err;
  }
  try {
    const st = await fh.stat();
    return { fh, size: st.size };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
