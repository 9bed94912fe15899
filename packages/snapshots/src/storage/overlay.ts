import type { SnapshotRecord } from './transaction.js';

/** Change is one committed transaction: whole records for the keys it set, the keys it deleted, the next ID. */
export interface Change {
  nextId: number;
  put?: [string, SnapshotRecord][];
  del?: string[];
}

/**
 * Overlay is a Map over another whose own entries and tombstones take precedence. A writer's
 * draft is one over the committed records, and its entries and tombstones are exactly what the
 * transaction changed; a reader's snapshot is one that a commit pins the old values into.
 */
export class Overlay extends Map<string, SnapshotRecord> {
  private readonly own = new Map<string, SnapshotRecord>();
  private readonly gone = new Set<string>();

  constructor(private readonly under: ReadonlyMap<string, SnapshotRecord>) {
    super();
  }

  override get(key: string): SnapshotRecord | undefined {
    if (this.own.has(key)) return this.own.get(key);
    return this.gone.has(key) ? undefined : this.under.get(key);
  }

  override has(key: string): boolean {
    return this.own.has(key) || (!this.gone.has(key) && this.under.has(key));
  }

  override set(key: string, value: SnapshotRecord): this {
    this.gone.delete(key);
    this.own.set(key, value);
    return this;
  }

  override delete(key: string): boolean {
    const had = this.has(key);
    this.own.delete(key);
    if (this.under.has(key)) this.gone.add(key);
    return had;
  }

  override clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }

  override *entries(): MapIterator<[string, SnapshotRecord]> {
    for (const [key, value] of this.under) {
      if (this.own.has(key)) yield [key, this.own.get(key)!];
      else if (!this.gone.has(key)) yield [key, value];
    }
    for (const [key, value] of this.own) if (!this.under.has(key)) yield [key, value];
  }

  override [Symbol.iterator](): MapIterator<[string, SnapshotRecord]> {
    return this.entries();
  }

  override *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  override *values(): MapIterator<SnapshotRecord> {
    for (const [, value] of this.entries()) yield value;
  }

  override forEach(fn: (value: SnapshotRecord, key: string, map: Map<string, SnapshotRecord>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) fn.call(thisArg, value, key, this);
  }

  /** pin keeps `key` as the underlying map has it now, unless this overlay already decides it. */
  pin(key: string): void {
    if (this.own.has(key) || this.gone.has(key)) return;
    const value = this.under.get(key);
    if (value === undefined) this.gone.add(key);
    else this.own.set(key, value);
  }

  /** changes yields each key this overlay decides with the record under it and its own (undefined: none). */
  *changes(): Generator<[string, SnapshotRecord | undefined, SnapshotRecord | undefined]> {
    for (const [key, value] of this.own) yield [key, this.under.get(key), value];
    for (const key of this.gone) if (!this.own.has(key)) yield [key, this.under.get(key), undefined];
  }

  /** change describes the overlay's own entries and tombstones, or undefined when it has none. */
  change(nextId: number, prevNextId: number): Change | undefined {
    const c: Change = { nextId };
    if (this.own.size > 0) c.put = [...this.own];
    if (this.gone.size > 0) c.del = [...this.gone];
    return c.put || c.del || nextId !== prevNextId ? c : undefined;
  }
}

// Map's size reads its own (here unused) storage; an overlay's is what iterating it yields.
Object.defineProperty(Overlay.prototype, 'size', {
  get(this: Overlay) {
    let n = 0;
    for (const _ of this.entries()) n++;
    return n;
  },
});

