/** How many decoded records a cache holds at most. */
const DEFAULT_ENTRIES = 2048;
/** How much JSON the records a cache holds came from, at most (their decoded form takes more). */
const DEFAULT_BYTES = 2 << 20;

/**
 * RecordCache holds records as `MetaCore.get` decoded them, so that a call asking for the same
 * record again (`ctr` asks for a manifest's info and content several times per image, every task
 * command for its container) skips LevelDB's read and the JSON decoding, about a tenth of a small
 * call's time in the daemon. It is bounded by entries and by the size of the JSON the records
 * came from; the oldest kept goes first.
 *
 * A write forgets the keys it changed once its batch is committed. A read that began before a
 * commit does not keep what it read: it may be the record the commit replaced. The records are
 * frozen, deeply, as they are shared by every reader: code that changed one in place would
 * throw instead of changing it for everyone.
 */
export class RecordCache {
  readonly #entries = new Map<string, { record: unknown; bytes: number }>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #era = 0;

  constructor(limits: { entries?: number; bytes?: number } = {}) {
    this.#maxEntries = limits.entries ?? DEFAULT_ENTRIES;
    this.#maxBytes = limits.bytes ?? DEFAULT_BYTES;
  }

  /** era counts the forgets; take it before a read and hand it to `keep`. */
  get era(): number {
    return this.#era;
  }

  /** lookup returns the record kept for `key`, or undefined. */
  lookup(key: string): unknown {
    return this.#entries.get(key)?.record;
  }

  /**
   * keep stores `record`, decoded from `bytes` of JSON, for `key` unless a write was committed
   * since `era` was taken. A record larger than the whole cache is not kept.
   */
  keep(key: string, record: unknown, bytes: number, era: number): void {
    if (era !== this.#era || bytes > this.#maxBytes) return;
    this.#drop(key);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries && this.#bytes + bytes <= this.#maxBytes) break;
      this.#drop(oldest);
    }
    this.#entries.set(key, { record: deepFreeze(record), bytes });
    this.#bytes += bytes;
  }

  /** forget drops `keys`, and keeps no read that began before. */
  forget(keys: Iterable<string>): void {
    this.#era++;
    for (const k of keys) this.#drop(k);
  }

  /** size is the number of records kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** bytes is the size of the JSON the kept records came from. */
  get bytes(): number {
    return this.#bytes;
  }

  #drop(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
