import { type FileHandle, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataLossError, FailedPreconditionError, isNotFound } from '@ctrd/errdefs';
import { fault } from '@ctrd/fault';
import { Overlay, type Change } from './overlay.js';
import { MetaTransaction, countChild, type SnapshotRecord, type StoreState, type TxState } from './transaction.js';

const FORMAT_VERSION = 1;
// The journal is folded into the base once it outgrows max(this, the base's size), so a
// compaction's O(n) rewrite is paid for by at least as many bytes of O(1) appends.
const MIN_COMPACT_BYTES = 64 * 1024;

/** The base file; `gen` (0 when absent, as in stores written before the journal) is its generation. */
interface BaseShape {
  version: number;
  gen?: number;
  nextId: number;
  snapshots: [string, SnapshotRecord][];
}

/** The journal's first line: it extends the base of generation `gen` and no other. */
interface JournalHeader {
  version: number;
  gen: number;
}

/** What is on disk: the base's generation (undefined: no base yet) and the journal's good prefix. */
interface DiskState {
  gen: number | undefined;
  baseBytes: number;
  journalGen: number | undefined;
  journalGood: number;
  journalSize: number;
  compactAt: number;
}

// Committed records are shared by every later draft and reader, so a stray write must fail loudly.
function freeze(r: SnapshotRecord): SnapshotRecord {
  Object.freeze(r.labels);
  return Object.freeze(r);
}

function applyChange(state: StoreState, c: Change, readers: Iterable<Overlay> = []): void {
  for (const reader of readers) {
    for (const key of c.del ?? []) reader.pin(key);
    for (const [key] of c.put ?? []) reader.pin(key);
  }
  const children = state.children as Map<string, number>;
  for (const key of c.del ?? []) {
    countChild(children, state.snapshots.get(key)?.parent, -1);
    state.snapshots.delete(key);
  }
  for (const [key, r] of c.put ?? []) {
    countChild(children, state.snapshots.get(key)?.parent, -1);
    countChild(children, r.parent, 1);
    state.snapshots.set(key, freeze(r));
  }
  state.nextId = c.nextId;
}

function parseLine(line: Buffer): unknown {
  try {
    return JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isHeader(v: unknown): v is JournalHeader {
  const h = v as JournalHeader | null | undefined;
  return typeof h === 'object' && h !== null && typeof h.version === 'number' && Number.isSafeInteger(h.gen);
}

function isChange(v: unknown): v is Change {
  const c = v as Change | null | undefined;
  if (typeof c !== 'object' || c === null || !Number.isSafeInteger(c.nextId)) return false;
  if (c.put !== undefined && !(Array.isArray(c.put) && c.put.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'object' && e[1] !== null))) return false;
  return c.del === undefined || (Array.isArray(c.del) && c.del.every((k) => typeof k === 'string'));
}

/**
 * replay applies the journal `buf` to `state`, the base of generation `gen`, and returns the
 * journal's generation (undefined when it has none or is stale) and the length of its good
 * prefix. Only the last line may be torn: earlier damage is DataLoss.
 */
function replay(path: string, buf: Buffer, gen: number | undefined, state: StoreState): { gen: number | undefined; good: number } {
  let header: JournalHeader | undefined;
  let off = 0;
  for (let lineNo = 1; off < buf.length; lineNo++) {
    const nl = buf.indexOf(0x0a, off);
    const end = nl < 0 ? buf.length : nl + 1;
    // A line without its newline was never fully appended, even if what is there parses.
    const v = nl < 0 ? undefined : parseLine(buf.subarray(off, nl));
    const ok = header === undefined ? isHeader(v) : isChange(v);
    if (!ok) {
      if (end >= buf.length) break;
      throw new DataLossError(`snapshot metadata journal ${path} is corrupt at line ${lineNo}`);
    }
    if (header === undefined) {
      const h = v as JournalHeader;
      if (h.version !== FORMAT_VERSION) {
        throw new FailedPreconditionError(`snapshot metadata journal ${path} has unsupported version ${h.version}`);
      }
      if (gen === undefined || h.gen > gen) {
        throw new DataLossError(`snapshot metadata journal ${path} extends generation ${h.gen}, its base ${gen === undefined ? 'is missing' : `is generation ${gen}`}`);
      }
      // An older generation is already folded into the base: a compaction died before replacing it.
      if (h.gen < gen) return { gen: undefined, good: 0 };
      header = h;
    } else {
      applyChange(state, v as Change);
    }
    off = end;
  }
  return { gen: header?.gen, good: header ? off : 0 };
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// A rename or a new file is durable only once the directory holding it is.
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function appendAll(fh: FileHandle, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; ) off += (await fh.write(data, off, data.length - off)).bytesWritten;
}

function baseBody(state: StoreState, gen: number): Buffer {
  const body: BaseShape = { version: FORMAT_VERSION, gen, nextId: state.nextId, snapshots: [...state.snapshots] };
  return Buffer.from(JSON.stringify(body));
}

/**
 * MetaStore keeps a snapshotter's records (backend IDs, kinds, parents, labels, times, usage),
 * the role bolt plays in containerd, in a JSON base file `<path>` and an append-only journal
 * `<path>.journal` of JSON lines: a header naming the base generation it extends, then one line
 * per committed transaction with the whole records it set, the keys it deleted and the next ID.
 * A commit costs one append and one fdatasync, whatever the store's size; once the journal
 * outgrows the base, it is folded into a new base (temporary file, fsync, rename) of the next
 * generation, which makes the old journal stale.
 *
 * Writers run one at a time behind an in-process lock, each on a copy-on-write draft that becomes
 * current only once its journal line is durable; a writer that throws leaves nothing behind.
 * Readers see the last committed state, stable for the whole of `view`, and never wait. Opening
 * does not write: a torn last journal line is ignored, and cut off before the next append. One
 * process owns a store.
 */
export class MetaStore {
  private state: StoreState;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private broken: unknown;
  private journal: FileHandle | undefined;
  private readonly readers = new Set<Overlay>();

  private constructor(
    readonly path: string,
    state: StoreState,
    private readonly disk: DiskState,
  ) {
    this.state = state;
  }

  /**
   * open loads the store at `path` and replays its journal, starting empty when there is no file.
   * `idsOnDisk` are the names a snapshotter finds where it keeps its snapshots: IDs are never
   * handed out again at or below any of them, since a crash between making a snapshot's
   * directory and committing its record leaves a directory no record owns (until cleanup).
   */
  static async open(path: string, idsOnDisk: Iterable<string> = []): Promise<MetaStore> {
    await mkdir(dirname(path), { recursive: true });
    const children = new Map<string, number>();
    const state: StoreState = { nextId: 1, snapshots: new Map(), children };
    const raw = await readOptional(path);
    let gen: number | undefined;
    if (raw !== undefined) {
      let parsed: BaseShape;
      try {
        parsed = JSON.parse(raw.toString('utf8')) as BaseShape;
      } catch (err) {
        throw new DataLossError(`snapshot metadata ${path} is corrupt`, { cause: err });
      }
      if (parsed.version !== FORMAT_VERSION) {
        throw new FailedPreconditionError(`snapshot metadata ${path} has unsupported version ${parsed.version}`);
      }
      gen = parsed.gen ?? 0;
      state.nextId = parsed.nextId;
      for (const [key, r] of parsed.snapshots) {
        countChild(children, state.snapshots.get(key)?.parent, -1);
        countChild(children, r.parent, 1);
        state.snapshots.set(key, freeze(r));
      }
    }
    const journal = await readOptional(`${path}.journal`);
    const j = journal ? replay(`${path}.journal`, journal, gen, state) : { gen: undefined, good: 0 };
    for (const name of idsOnDisk) {
      if (/^[1-9][0-9]*$/.test(name)) state.nextId = Math.max(state.nextId, Number(name) + 1);
    }
    const baseBytes = raw?.length ?? 0;
    return new MetaStore(path, state, {
      gen,
      baseBytes,
      journalGen: j.gen,
      journalGood: j.good,
      journalSize: journal?.length ?? 0,
      compactAt: Math.max(MIN_COMPACT_BYTES, baseBytes),
    });
  }

  /** view runs `fn` on the current state in a read-only transaction. */
  async view<T>(fn: (tx: MetaTransaction) => T | Promise<T>): Promise<T> {
    this.checkOpen();
    const snapshot = new Overlay(this.state.snapshots);
    this.readers.add(snapshot);
    try {
      return await fn(new MetaTransaction({ nextId: this.state.nextId, snapshots: snapshot, children: this.state.children }, false));
    } finally {
      this.readers.delete(snapshot);
    }
  }

  /**
   * update runs `fn` in a write transaction: on a draft of the state, after every earlier writer.
   * If `fn` returns, what it changed is made durable and becomes current; if it throws, the draft
   * is dropped.
   */
  update<T>(fn: (tx: MetaTransaction) => T | Promise<T>): Promise<T> {
    this.checkOpen();
    const run = async (): Promise<T> => {
      if (this.broken !== undefined) {
        throw new FailedPreconditionError(`snapshot metadata ${this.path} failed a write and must be reopened`, { cause: this.broken });
      }
      const draft: TxState = { nextId: this.state.nextId, snapshots: new Overlay(this.state.snapshots), children: this.state.children };
      const result = await fn(new MetaTransaction(draft, true));
      const change = draft.snapshots.change(draft.nextId, this.state.nextId);
      if (change === undefined) return result;
      if (this.disk.gen === undefined) await this.createBase(draft);
      else await this.append(change);
      applyChange(this.state, change, this.readers);
      if (this.disk.journalGood > this.disk.compactAt) await this.compact();
      return result;
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /**
   * close waits for pending writers and closes the store; closing again does nothing. It does not
   * compact: the journal is already bounded, and a store only opened to be read (as fsck does)
   * is left byte for byte as it was.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await this.journal?.close();
    this.journal = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new FailedPreconditionError(`snapshot metadata ${this.path} is closed`);
  }

  private get journalPath(): string {
    return `${this.path}.journal`;
  }

  /** createBase commits the first change of a store that has no file yet by writing its base. */
  private async createBase(draft: StoreState): Promise<void> {
    const body = baseBody(draft, 1);
    await writeDurably(`${this.path}.tmp`, body);
    fault('snapshot.metastore.persist');
    await rename(`${this.path}.tmp`, this.path);
    await this.syncDirOrBreak();
    this.based(1, body.length);
  }

  /** append commits `c` as one journal line: a write and an fdatasync in the steady state. */
  private async append(c: Change): Promise<void> {
    const fh = await this.journalForAppend();
    const line = Buffer.from(`${JSON.stringify(c)}\n`);
    try {
      await appendAll(fh, line);
      await fh.datasync();
    } catch (err) {
      // Cut the failed line off now, so a crash cannot replay a change its writer saw fail; if
      // that fails too, journalForAppend cuts it off before the next append.
      this.disk.journalSize = -1;
      try {
        await fh.truncate(this.disk.journalGood);
        await fh.datasync();
        this.disk.journalSize = this.disk.journalGood;
      } catch {}
      throw err;
    }
    this.disk.journalGood += line.length;
    this.disk.journalSize = this.disk.journalGood;
    fault('snapshot.metastore.persist');
  }

  /** journalForAppend returns the journal of the base's generation, its torn tail cut off. */
  private async journalForAppend(): Promise<FileHandle> {
    if (this.disk.journalGen !== this.disk.gen) await this.startJournal(this.disk.gen!);
    this.journal ??= await open(this.journalPath, 'a', 0o600);
    if (this.disk.journalSize !== this.disk.journalGood) {
      await this.journal.truncate(this.disk.journalGood);
      await this.journal.datasync();
      this.disk.journalSize = this.disk.journalGood;
    }
    return this.journal;
  }

  /**
   * startJournal replaces the journal with an empty one for generation `gen`. It is renamed into
   * place, never truncated, so no byte of the old journal can survive a crash behind the new header.
   */
  private async startJournal(gen: number): Promise<void> {
    const fh = this.journal;
    this.journal = undefined;
    await fh?.close();
    const header = Buffer.from(`${JSON.stringify({ version: FORMAT_VERSION, gen } satisfies JournalHeader)}\n`);
    await writeDurably(`${this.path}.tmp`, header);
    await rename(`${this.path}.tmp`, this.journalPath);
    await syncDir(dirname(this.path));
    this.disk.journalGen = gen;
    this.disk.journalGood = this.disk.journalSize = header.length;
  }

  /**
   * compact folds the journal into a new base of the next generation. Until the rename the old
   * base and journal stand; after it the old journal is stale (its header names the old
   * generation) and is replaced before the next append. It runs after a commit, so a failure
   * only postpones it; past the rename, a failure to make the rename durable breaks the store,
   * since appending to the stale journal would lose changes.
   */
  private async compact(): Promise<void> {
    const gen = this.disk.gen! + 1;
    const body = baseBody(this.state, gen);
    try {
      await writeDurably(`${this.path}.tmp`, body);
      await rename(`${this.path}.tmp`, this.path);
    } catch {
      this.disk.compactAt = this.disk.journalGood + Math.max(MIN_COMPACT_BYTES, this.disk.baseBytes);
      return;
    }
    try {
      await this.syncDirOrBreak();
    } catch {
      return;
    }
    this.based(gen, body.length);
    // Done now so the next commit is a plain append; if it fails, the next commit retries it.
    await this.startJournal(gen).catch(() => undefined);
  }

  private async syncDirOrBreak(): Promise<void> {
    try {
      await syncDir(dirname(this.path));
    } catch (err) {
      this.broken = err;
      throw err;
    }
  }

  private based(gen: number, bytes: number): void {
    this.disk.gen = gen;
    this.disk.baseBytes = bytes;
    this.disk.compactAt = Math.max(MIN_COMPACT_BYTES, bytes);
  }
}
