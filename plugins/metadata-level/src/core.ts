import type { NamespaceRecord } from './records.js';
import { KEYS } from './keys.js';
import { getRaw, openView, ReadView, WriteTxn, type LevelDatabase } from './kv.js';
import { Mutex } from './mutex.js';
import { RecordCache } from './record-cache.js';

/** MutationCallback hears of every committed change; `dirty` says whether something was dereferenced since the last collection. */
export type MutationCallback = (dirty: boolean) => void;

/**
 * MetaCore is what every store shares: the database, the write lock, the clock and the
 * bookkeeping that tells garbage collection what changed.
 */
export class MetaCore {
  /** lock serialises writers (and a collection's mark and sweep). */
  readonly lock = new Mutex();
  private dirtyCount = 0;
  private readonly callbacks = new Set<MutationCallback>();
  /** contentDirty says the backing content store may hold blobs or ingests nobody references. */
  contentDirty = true;
  /** dirtySnapshotters names the snapshotters whose backends may hold unreferenced snapshots. */
  readonly dirtySnapshotters = new Set<string>();
  /** blobs being committed to the backend whose records are not written yet, with their counts. */
  private readonly pins = new Map<string, number>();
  /** the records `get` has read, decoded, until a write changes them. */
  private readonly cache = new RecordCache();

  constructor(
    readonly db: LevelDatabase,
    readonly now: () => Date,
  ) {}

  /**
   * write runs `fn` under the write lock and commits what it gathered as one atomic batch; nothing
   * is written if `fn` throws.
   */
  write<T>(fn: (tx: WriteTxn) => Promise<T>): Promise<T> {
    return this.lock.run(() => this.writeLocked(fn));
  }

  /** writeLocked is {@link write} for a caller that already holds the lock. */
  async writeLocked<T>(fn: (tx: WriteTxn) => Promise<T>): Promise<T> {
    const tx = new WriteTxn(this.db);
    const result = await fn(tx);
    const written = tx.keys();
    try {
      await tx.commit();
    } finally {
      // Also when the batch failed: whether any of it reached the database is not known.
      this.cache.forget(written);
    }
    if (tx.dirty) this.dirtyCount++;
    const dirty = this.dirtyCount > 0;
    for (const cb of this.callbacks) cb(dirty);
    return result;
  }

  /**
   * get reads the one record at `key` without opening a snapshot (a single key is always seen
   * whole, writers commit in one batch); undefined when absent. The record comes from the cache
   * when a read before kept it, and is frozen: callers copy what they hand on or change.
   */
  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.cache.lookup(key);
    if (hit !== undefined) return hit as T;
    const era = this.cache.era;
    const raw = await getRaw(this.db, key);
    if (raw === undefined) return undefined;
    const record = JSON.parse(raw) as T;
    this.cache.keep(key, record, raw.length, era);
    return record;
  }

  /**
   * records scans the records directly below `parent` without an explicit snapshot: one scan
   * needs none, an iterator reads the database as it was when the iterator was made.
   */
  records<T>(parent: string): AsyncGenerator<{ name: string; key: string; value: T }> {
    return new ReadView(this.db).records<T>(parent);
  }

  /** read runs `fn` against one consistent snapshot of the database. */
  async read<T>(fn: (view: ReadView) => Promise<T>): Promise<T> {
    const { view, close } = openView(this.db);
    try {
      return await fn(view);
    } finally {
      await close();
    }
  }

  /** onMutation registers a callback for every committed change and returns its remover. */
  onMutation(fn: MutationCallback): () => void {
    this.callbacks.add(fn);
    return () => this.callbacks.delete(fn);
  }

  /**
   * pinContent keeps a collection from removing backend blob `digest` until the returned release
   * is called: a writer commits its blob to the backend before it takes the write lock to record
   * it, and in between nothing references the blob.
   */
  pinContent(digest: string): () => void {
    this.pins.set(digest, (this.pins.get(digest) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.pins.get(digest) ?? 1) - 1;
      if (n > 0) this.pins.set(digest, n);
      else this.pins.delete(digest);
    };
  }

  /** isPinned reports whether a writer holds `digest` between its backend commit and its record. */
  isPinned(digest: string): boolean {
    return this.pins.has(digest);
  }

  /** isDirty reports whether anything was dereferenced since the last collection. */
  get isDirty(): boolean {
    return this.dirtyCount > 0;
  }

  /** resetDirty is called by a collection once it has swept. */
  resetDirty(): void {
    this.dirtyCount = 0;
  }

  /** stamp returns the current time as stored text. */
  stamp(): string {
    return this.now().toISOString();
  }

  /** ensureNamespace creates the namespace record on first use. */
  async ensureNamespace(tx: WriteTxn, ns: string): Promise<void> {
    const key = KEYS.namespace(ns);
    if ((await tx.get<NamespaceRecord>(key)) === undefined) tx.put(key, { labels: {} } satisfies NamespaceRecord);
  }
}
