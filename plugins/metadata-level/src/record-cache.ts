/** How many decoded records a cache holds; the oldest goes first when it is full. */
const DEFAULT_CAPACITY = 2048;

/**
 * RecordCache holds records as `MetaCore.get` decoded them, so that a call asking for the same
 * record again (`ctr` asks for a manifest's info and content several times per image) skips
 * LevelDB's read and the JSON decoding, about a tenth of a small call's time in the daemon.
 *
 * A write forgets the keys it changed once its batch is committed. A read that began before a
 * commit does not keep what it read: it may be the record the commit replaced. The records are
 * frozen, deeply, as they are shared by every reader: code that changed one in place would
 * throw instead of changing it for everyone.
 */
export class RecordCache {
  readonly #entries = new Map<string, unknown>();
  readonly #capacity: number;
  #era = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  /** era counts the forgets; take it before a read and hand it to `keep`. */
  get era(): number {
    return this.#era;
  }

  /** lookup returns the record kept for `key`, or undefined. */
  lookup(key: string): unknown {
    return this.#entries.get(key);
  }

  /** keep stores `record` for `key` unless a write was committed since `era` was taken. */
  keep(key: string, record: unknown, era: number): void {
    if (era !== this.#era) return;
    if (this.#entries.size >= this.#capacity && !this.#entries.has(key)) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, deepFreeze(record));
  }

  /** forget drops `keys`, and keeps no read that began before. */
  forget(keys: Iterable<string>): void {
    this.#era++;
    for (const k of keys) this.#entries.delete(k);
  }

  /** size is the number of records kept. */
  get size(): number {
    return this.#entries.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
