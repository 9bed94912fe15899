import type { AbstractLevel } from 'abstract-level';
import { fault } from '@ctrd/fault';
import { childRange, decodeComponent, splitChild, subtreeEnd } from './keys.js';

/** LevelDatabase is any abstract-level database (classic-level on disk, memory-level in tests). */
export type LevelDatabase = AbstractLevel<any, any, any>;

type Snapshot = ReturnType<LevelDatabase['snapshot']>;

const ENC = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const;

/** CHILD_BATCH is how many entries a scan asks LevelDB for at a time. */
const CHILD_BATCH = 1000;

/**
 * SCAN is what every scan asks of the iterator: a batch of CHILD_BATCH records of up to 1 KiB
 * each in one round trip. classic-level stops a batch at 16 KiB by default, a hundred records or so.
 */
const SCAN = { ...ENC, highWaterMarkBytes: CHILD_BATCH * 1024 } as const;

/** Child is one direct child of a key: its decoded name and, when a record sits exactly there, the record. */
export interface Child<T> {
  name: string;
  key: string;
  value: T | undefined;
}

/**
 * ReadView reads JSON records from the database, optionally pinned to one snapshot so that several
 * reads see the same state.
 */
export class ReadView {
  constructor(
    protected readonly db: LevelDatabase,
    protected readonly snapshot?: Snapshot,
  ) {}

  /** get returns the record at `key`, or undefined. */
  async get<T>(key: string): Promise<T | undefined> {
    if (this.snapshot === undefined) return getRecord<T>(this.db, key);
    const raw = await this.db.get<string, string>(key, { ...ENC, snapshot: this.snapshot });
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  /**
   * children yields each distinct component directly below `parent`, in key order, with the record
   * stored at that exact key if there is one. Entries are read `batch` at a time (each batch is one
   * round trip to LevelDB's thread pool, see SCAN); the keys of a child's
   * subtree are skipped within a batch, and when a batch ends inside a subtree the iterator seeks
   * past the rest of it, so a scan does not read every descendant of a deep child.
   */
  async *children<T>(parent: string, batch = CHILD_BATCH): AsyncGenerator<Child<T>> {
    const it = this.db.iterator<string, string>({ ...childRange(parent), ...SCAN, snapshot: this.snapshot });
    try {
      let last: string | undefined;
      // the key prefix of the subtree being skipped, while its deeper keys go by
      let skipping: string | undefined;
      for (let entries = await it.nextv(batch); entries.length > 0; entries = await it.nextv(batch)) {
        for (const [key, raw] of entries) {
          if (skipping !== undefined) {
            if (key.startsWith(skipping)) continue;
            skipping = undefined;
          }
          const { encoded, deeper } = splitChild(parent, key);
          const childKey = `${parent}\x00${encoded}`;
          if (childKey !== last) {
            last = childKey;
            yield { name: decodeComponent(encoded), key: childKey, value: deeper ? undefined : (JSON.parse(raw) as T) };
          }
          if (deeper) skipping = `${childKey}\x00`;
        }
        if (skipping !== undefined) {
          it.seek(subtreeEnd(last!));
          skipping = undefined;
        }
      }
    } finally {
      await it.close();
    }
  }

  /** records yields only the children of `parent` that hold a record. */
  async *records<T>(parent: string): AsyncGenerator<{ name: string; key: string; value: T }> {
    for await (const c of this.children<T>(parent)) {
      if (c.value !== undefined) yield { name: c.name, key: c.key, value: c.value };
    }
  }

  /** descendants yields every key strictly below `parent`, with its raw value. */
  async *descendants(parent: string): AsyncGenerator<[string, string]> {
    const it = this.db.iterator<string, string>({ ...childRange(parent), ...SCAN, snapshot: this.snapshot });
    try {
      for (let entries = await it.nextv(CHILD_BATCH); entries.length > 0; entries = await it.nextv(CHILD_BATCH)) yield* entries;
    } finally {
      await it.close();
    }
  }

  /** hasChildren reports whether any key lies below `parent`. */
  async hasChildren(parent: string): Promise<boolean> {
    const keys = await this.db.keys<string>({ ...childRange(parent), keyEncoding: 'utf8', limit: 1, snapshot: this.snapshot }).all();
    return keys.length > 0;
  }
}

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * WriteTxn gathers the puts and deletes of one change and commits them as one atomic batch. Its
 * reads go to the live database (the caller holds the write lock), with its own pending writes
 * laid over `get`.
 */
export class WriteTxn extends ReadView {
  private readonly pending = new Map<string, string | null>();
  /** dirty is set by a change that removed a reference, so a collection may now free something. */
  dirty = false;

  constructor(db: LevelDatabase) {
    super(db);
  }

  override async get<T>(key: string): Promise<T | undefined> {
    const p = this.pending.get(key);
    if (p === null) return undefined;
    if (p !== undefined) return JSON.parse(p) as T;
    return super.get<T>(key);
  }

  /** put stores `value` as JSON at `key`. */
  put(key: string, value: unknown): void {
    this.pending.set(key, JSON.stringify(value));
  }

  /** del removes `key`. */
  del(key: string): void {
    this.pending.set(key, null);
  }

  /** delTree removes `key` and every key below it. */
  async delTree(key: string): Promise<void> {
    this.del(key);
    for await (const [k] of this.descendants(key)) this.del(k);
  }

  /** keys lists the keys this transaction puts or deletes. */
  keys(): string[] {
    return [...this.pending.keys()];
  }

  /** size is the number of pending operations. */
  get size(): number {
    return this.pending.size;
  }

  /** commit writes every pending operation in one batch. */
  async commit(): Promise<void> {
    if (this.pending.size === 0) return;
    const ops: BatchOp[] = [];
    for (const [key, value] of this.pending) {
      ops.push(value === null ? { type: 'del', key } : { type: 'put', key, value });
    }
    fault('metadata.batch');
    await this.db.batch<string, string>(ops, ENC);
    this.pending.clear();
  }
}

/**
 * getRaw reads the JSON at `key` from the live database, or undefined. One key needs no
 * snapshot: every change is one atomic batch, so the read sees the key before or after it. A
 * synchronous get (served from LevelDB's caches) skips the thread-pool round trip that dominates
 * the cost of small reads.
 */
export async function getRaw(db: LevelDatabase, key: string): Promise<string | undefined> {
  // The manifest's type predates `getSync`; classic-level and memory-level both declare it.
  return (db.supports as { getSync?: boolean }).getSync === true && db.status === 'open' ? db.getSync<string, string>(key, ENC) : await db.get<string, string>(key, ENC);
}

/** getRecord reads and decodes the record at `key` from the live database, or undefined (see {@link getRaw}). */
export async function getRecord<T>(db: LevelDatabase, key: string): Promise<T | undefined> {
  const raw = await getRaw(db, key);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

/** openView pins a read view to one point in time when the database supports explicit snapshots. */
export function openView(db: LevelDatabase): { view: ReadView; close(): Promise<void> } {
  if (!db.supports.explicitSnapshots) return { view: new ReadView(db), close: async () => {} };
  const snapshot = db.snapshot();
  return { view: new ReadView(db, snapshot), close: () => snapshot.close() };
}
