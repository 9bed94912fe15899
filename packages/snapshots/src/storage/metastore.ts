import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataLossError, FailedPreconditionError, isNotFound } from '@ctrd/errdefs';
import { MetaTransaction, type SnapshotRecord, type StoreState } from './transaction.js';
import { fault } from '@ctrd/fault';

const FORMAT_VERSION = 1;

interface FileShape {
  version: number;
  nextId: number;
  snapshots: [string, SnapshotRecord][];
}

function cloneState(s: StoreState): StoreState {
  return { nextId: s.nextId, snapshots: new Map([...s.snapshots].map(([k, r]) => [k, { ...r, labels: { ...r.labels } }])) };
}

/**
 * MetaStore keeps a snapshotter's records (backend IDs, kinds, parents, labels, times, usage) in
 * one JSON file, the role bolt plays in containerd. A snapshotter holds a few hundred records at
 * most and writes them a few times per layer, so a whole-file rewrite (temp file, fsync, rename)
 * is cheap, atomic and needs no native module.
 *
 * Writers run one at a time behind an in-process lock, each on a private copy of the state that
 * becomes current only once the file is durably replaced; a writer that throws leaves nothing
 * behind. Readers see the last committed state and never wait. One process owns a store.
 */
export class MetaStore {
  private state: StoreState;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    state: StoreState,
  ) {
    this.state = state;
  }

  /** open loads the store at `path`, creating an empty one when the file does not exist. */
  static async open(path: string): Promise<MetaStore> {
    await mkdir(dirname(path), { recursive: true });
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch (err) {
      if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') {
        return new MetaStore(path, { nextId: 1, snapshots: new Map() });
      }
      throw err;
    }
    let parsed: FileShape;
    try {
      parsed = JSON.parse(raw) as FileShape;
    } catch (err) {
      throw new DataLossError(`snapshot metadata ${path} is corrupt`, { cause: err });
    }
    if (parsed.version !== FORMAT_VERSION) {
      throw new FailedPreconditionError(`snapshot metadata ${path} has unsupported version ${parsed.version}`);
    }
    return new MetaStore(path, { nextId: parsed.nextId, snapshots: new Map(parsed.snapshots) });
  }

  /** view runs `fn` on the current state in a read-only transaction. */
  async view<T>(fn: (tx: MetaTransaction) => T | Promise<T>): Promise<T> {
    this.checkOpen();
    return fn(new MetaTransaction(this.state, false));
  }

  /**
   * update runs `fn` in a write transaction: on a copy of the state, after every earlier writer.
   * If `fn` returns, the copy is written to disk and becomes current; if it throws, it is dropped.
   */
  update<T>(fn: (tx: MetaTransaction) => T | Promise<T>): Promise<T> {
    this.checkOpen();
    const run = async (): Promise<T> => {
      const draft = cloneState(this.state);
      const result = await fn(new MetaTransaction(draft, true));
      await this.persist(draft);
      this.state = draft;
      return result;
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** close waits for pending writers and closes the store; closing again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
  }

  private checkOpen(): void {
    if (this.closed) throw new FailedPreconditionError(`snapshot metadata ${this.path} is closed`);
  }

  private async persist(s: StoreState): Promise<void> {
    const body: FileShape = { version: FORMAT_VERSION, nextId: s.nextId, snapshots: [...s.snapshots] };
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(body));
      await fh.sync();
    } finally {
      await fh.close();
    }
    fault('snapshot.metastore.persist');
    await rename(tmp, this.path);
  }
}
