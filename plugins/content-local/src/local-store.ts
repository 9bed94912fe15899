import { chmod, mkdir, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnknownError, isNotFound } from '@ctrd/errdefs';
import {
  adaptInfo,
  adaptStatus,
  applyLabelUpdate,
  parseDigest,
  parseFilters,
  validateDigest,
  validateLabels,
  type BlobDescriptor,
  type ContentStore,
  type Info,
  type ReaderAt,
  type Status,
  type Writer,
  type WriterOptions,
} from '@ctrd/content';
import { readRecord, statBlob, toInfo, writeRecord } from './blob-info.js';
import { BlobHandles } from './blob-handles.js';
import { BlobReader } from './blob-reader.js';
import { fsyncDir, isENOENT, settleAll } from './fsutil.js';
import { ingestPaths, ingestPathsOf, readIngestStatus, removeIngest, type IngestPaths } from './ingest.js';
import { openIngest } from './open-ingest.js';
import { LocalWriter } from './local-writer.js';
import { tryLockRef, withBlobLock } from './locks.js';
import { fault } from '@ctrd/fault';

/** LocalStoreOptions tune createLocalStore. */
export interface LocalStoreOptions {
  /** Size of the chunks `ReaderAt.stream` yields and of the re-hash buffer; at least 1 MiB (the default). */
  readChunkSize?: number;
}

/** LocalContentStore is a ContentStore on a local directory. */
export interface LocalContentStore extends ContentStore {
  /** The store's root directory. */
  readonly root: string;
}

const MiB = 1024 * 1024;
const HEX64 = /^[a-f0-9]{64}$/;

/**
 * LocalStore keeps blobs as files named by digest and ingests as directories named by the hash
 * of their ref; see the package documentation for the layout and the crash guarantees.
 */
class LocalStore implements LocalContentStore {
  readonly chunkSize: number;
  readonly #blobs: string;
  readonly #info: string;
  readonly #ingest: string;
  readonly #handles = new BlobHandles();

  constructor(
    readonly root: string,
    opts: LocalStoreOptions,
  ) {
    this.chunkSize = Math.max(MiB, Math.floor(opts.readChunkSize ?? MiB));
    this.#blobs = join(root, 'blobs', 'sha256');
    this.#info = join(root, 'info', 'sha256');
    this.#ingest = join(root, 'ingest');
  }

  async init(): Promise<void> {
    for (const dir of [this.#ingest, this.#blobs, this.#info]) await mkdir(dir, { recursive: true, mode: 0o755 });
    for (const dir of [this.root, join(this.root, 'blobs'), join(this.root, 'info')]) await fsyncDir(dir);
  }

  #blobPath(digest: string): string {
    return join(this.#blobs, parseDigest(digest).hex);
  }

  #sidecarPath(digest: string): string {
    return join(this.#info, `${parseDigest(digest).hex}.json`);
  }

  // --- Provider ---

  async readerAt(desc: BlobDescriptor): Promise<ReaderAt> {
    return BlobReader.shared(this.#handles, this.#blobPath(desc.digest), desc.digest, this.chunkSize);
  }

  // --- Manager ---

  async info(digest: string): Promise<Info> {
    const path = this.#blobPath(digest);
    const st = await statBlob(path, digest);
    return toInfo(digest, st, await readRecord(this.#sidecarPath(digest), st));
  }

  async update(info: Pick<Info, 'digest'> & Partial<Pick<Info, 'labels'>>, fieldpaths?: readonly string[]): Promise<Info> {
    const { digest } = info;
    const path = this.#blobPath(digest);
    return withBlobLock(path, async () => {
      const st = await statBlob(path, digest);
      const sidecar = this.#sidecarPath(digest);
      const rec = await readRecord(sidecar, st);
      const labels = applyLabelUpdate(digest, rec.labels, info.labels, fieldpaths);
      const next = { createdAt: rec.createdAt, updatedAt: new Date(), labels };
      await writeRecord(sidecar, next);
      return toInfo(digest, st, next);
    });
  }

  async *list(filters?: readonly string[]): AsyncIterable<Info> {
    const filter = parseFilters(filters);
    let names: string[];
    try {
      names = await readdir(this.#blobs);
    } catch (err) {
      if (isENOENT(err)) return;
      throw err;
    }
    for (const hex of names.sort()) {
      if (!HEX64.test(hex)) continue;
      const digest = `sha256:${hex}`;
      let st;
      try {
        st = await stat(join(this.#blobs, hex));
      } catch (err) {
        if (isENOENT(err)) continue; // deleted while listing
        throw err;
      }
      if (!st.isFile()) continue;
      const info = toInfo(digest, st, await readRecord(join(this.#info, `${hex}.json`), st));
      if (filter.match(adaptInfo(info))) yield info;
    }
  }

  async walk(fn: (info: Info) => void | Promise<void>, filters?: readonly string[]): Promise<void> {
    for await (const info of this.list(filters)) await fn(info);
  }

  async delete(digest: string): Promise<void> {
    const path = this.#blobPath(digest);
    await withBlobLock(path, async () => {
      try {
        await unlink(path);
      } catch (err) {
        if (isENOENT(err)) throw new NotFoundError(`content digest ${digest}`, { cause: err });
        throw err;
      } finally {
        // After the unlink: a reader that opened the file meanwhile must not keep it cached.
        this.#handles.evict(path);
      }
      await rm(this.#sidecarPath(digest), { force: true });
    });
  }

  // --- Ingester ---

  async writer(opts: WriterOptions): Promise<Writer> {
    const ref = opts.ref;
    if (typeof ref !== 'string' || ref === '') throw new InvalidArgumentError('ref must not be empty');
    const expected = opts.expected ? validateDigest(opts.expected) : '';
    validateLabels(opts.labels);
    const total = typeof opts.total === 'number' && Number.isSafeInteger(opts.total) && opts.total > 0 ? opts.total : 0;
    const paths = ingestPaths(this.#ingest, ref);
    const release = tryLockRef(paths.dir, ref);
    try {
      if (expected !== '' && (await this.#exists(this.#blobPath(expected)))) {
        throw new AlreadyExistsError(`content ${expected}`);
      }
      const state = await openIngest(paths, { ref, total, expected }, this.chunkSize);
      return new LocalWriter({ ...state, release, labels: opts.labels }, this);
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * publish moves a verified ingest into place; called by LocalWriter.commit after fsync. Labels
   * go to the sidecar first, so a crash never leaves a published blob without the labels it was
   * committed with; a commit without labels writes no sidecar and removes a stale one first
   * (the blob then takes its times from the file, as in containerd's store). Independent steps
   * run at once: each one is a round trip through the thread pool, under the store's lock.
   */
  async publish(ref: string, paths: IngestPaths, digest: string, labels: Record<string, string> | undefined): Promise<void> {
    const target = this.#blobPath(digest);
    await withBlobLock(target, async () => {
      const sidecar = this.#sidecarPath(digest);
      const hasLabels = labels !== undefined && Object.keys(labels).length > 0;
      const now = new Date();
      const [exists, sealed] = await Promise.allSettled([this.#exists(target), seal(paths.data, now)]);
      if (exists.status === 'rejected') throw exists.reason;
      if (exists.value) {
        await removeIngest(paths);
        throw new AlreadyExistsError(`content ${digest}`);
      }
      if (sealed.status === 'rejected') {
        const err: unknown = sealed.reason;
        if (isENOENT(err)) throw new NotFoundError(`ingest ref ${JSON.stringify(ref)}`, { cause: err });
        throw err;
      }
      fault('content.commit.before-publish');
      if (hasLabels) await writeRecord(sidecar, { createdAt: now, updatedAt: now, labels: { ...labels } });
      else await rm(sidecar, { force: true });
      try {
        await rename(paths.data, target);
      } catch (err) {
        if (isENOENT(err)) throw new NotFoundError(`ingest ref ${JSON.stringify(ref)}`, { cause: err });
        throw err;
      }
      await settleAll([fsyncDir(this.#blobs), removeIngest(paths).catch(() => undefined)]);
      fault('content.commit.after-publish');
    });
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (err) {
      if (isENOENT(err)) return false;
      throw err;
    }
  }

  // --- IngestManager ---

  async status(ref: string): Promise<Status> {
    const paths = ingestPaths(this.#ingest, ref);
    let st: Status;
    try {
      st = await readIngestStatus(paths);
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`ingest ref ${JSON.stringify(ref)}`, { cause: err });
      throw err;
    }
    if (st.ref !== ref) throw new UnknownError(`ingest for ref ${JSON.stringify(ref)} records ref ${JSON.stringify(st.ref)}`);
    return st;
  }

  async listStatuses(filters?: readonly string[]): Promise<Status[]> {
    const filter = parseFilters(filters);
    const out: Status[] = [];
    for (const name of (await readdir(this.#ingest)).sort()) {
      if (!HEX64.test(name)) continue;
      const p = ingestPathsOf(join(this.#ingest, name));
      let st: Status;
      try {
        st = await readIngestStatus(p);
      } catch (err) {
        // Ingests being created, committed or aborted right now vanish from the listing.
        if (isNotFound(err) || isENOENT(err)) continue;
        throw err;
      }
      if (filter.match(adaptStatus(st))) out.push(st);
    }
    return out;
  }

  async abort(ref: string): Promise<void> {
    const { dir } = ingestPaths(this.#ingest, ref);
    try {
      await stat(dir);
    } catch (err) {
      if (isENOENT(err)) throw new NotFoundError(`ingest ref ${JSON.stringify(ref)}`, { cause: err });
      throw err;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * createLocalStore opens (creating if needed) a content store rooted at `root`, with
 * containerd's on-disk layout. Ingests left by an earlier process are resumable.
 */
export async function createLocalStore(root: string, opts: LocalStoreOptions = {}): Promise<LocalContentStore> {
  const store = new LocalStore(resolve(root), opts);
  await store.init();
  return store;
}

/**
 * seal drops the write bits of `path` (keeping its read bits) and stamps it with the commit
 * time, which a blob without a sidecar reports as its creation time.
 */
async function seal(path: string, at: Date): Promise<void> {
  const st = await stat(path);
  await Promise.all([chmod(path, st.mode & 0o444), utimes(path, at, at)]);
}
