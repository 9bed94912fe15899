import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { codeOf, type ErrorCode } from '@ctrd/errdefs';
import { digestFromBytes } from '../digest.js';
import type { ContentStore, ReaderAt, Writer } from '../store.js';
import type { Info } from '../types.js';

/** SuiteFixture is what a suite factory hands to each case: a fresh, empty store. */
export interface SuiteFixture {
  store: ContentStore;
  /** Releases the store and removes whatever it left behind. */
  cleanup(): Promise<void>;
  /**
   * Returns a view of the same backing store scoped to namespace `ns`, for stores that are
   * namespaced (the metadata-wrapped store, the gRPC client). Absent for plain stores.
   */
  namespaced?: (ns: string) => ContentStore;
}

/** SuiteFactory builds a fresh fixture for one case. */
export type SuiteFactory = () => Promise<SuiteFixture>;

/** SuiteCase is one conformance case. */
export interface SuiteCase {
  name: string;
  run(fx: SuiteFixture, t: TestContext): Promise<void>;
}

/** Blob is random test content and its digest. */
export interface Blob {
  data: Uint8Array;
  digest: string;
}

/** blob makes `size` random bytes. */
export function blob(size: number): Blob {
  const data = new Uint8Array(randomBytes(size));
  return { data, digest: digestFromBytes(data) };
}

/** rejectsWith asserts that `p` rejects with an errdefs error of class `code` and returns the error. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, what: string): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `${what}: expected ${code}, but it succeeded`);
  assert.equal(codeOf(caught), code, `${what}: expected ${code}, got ${String(caught)}`);
  return caught as Error;
}

/** throwsWith is rejectsWith for code that may throw synchronously or reject. */
export async function throwsWith(fn: () => unknown, code: ErrorCode, what: string): Promise<Error> {
  return rejectsWith((async () => fn())(), code, what);
}

/** assertBetween checks `lo <= d <= hi` (millisecond clock). */
export function assertBetween(d: Date, lo: number, hi: number, what: string): void {
  assert.ok(d instanceof Date && !Number.isNaN(d.getTime()), `${what}: not a date: ${String(d)}`);
  const t = d.getTime();
  assert.ok(t >= lo && t <= hi, `${what}: ${d.toISOString()} not within [${new Date(lo).toISOString()}, ${new Date(hi).toISOString()}]`);
}

/** writeAll writes `data` through `w` in pieces of `chunk` bytes. */
export async function writeAll(w: Writer, data: Uint8Array, chunk = data.length || 1): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) await w.write(data.subarray(i, Math.min(i + chunk, data.length)));
}

/** collect concatenates an async stream of chunks. */
export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

/** readAll reads a whole blob through readAt in `chunk`-byte calls. */
export async function readAll(ra: ReaderAt, chunk = 1 << 20): Promise<Uint8Array> {
  const out = new Uint8Array(ra.size);
  let off = 0;
  while (off < out.length) {
    const n = await ra.readAt(out.subarray(off, Math.min(off + chunk, out.length)), off);
    assert.ok(n > 0, `readAt(${off}) returned ${n} before the end of a ${ra.size}-byte blob`);
    off += n;
  }
  return out;
}

/** readBack reads blob `digest` from `store` and checks its bytes equal `data`. */
export async function readBack(store: ContentStore, b: Blob, what: string): Promise<void> {
  const ra = await store.readerAt({ digest: b.digest });
  try {
    assert.equal(ra.size, b.data.length, `${what}: reader size`);
    const got = await readAll(ra);
    assert.equal(digestFromBytes(got), b.digest, `${what}: bytes read back`);
  } finally {
    await ra.close();
  }
}

/** checkInfo checks `info(digest)` against size, labels and the windows for its times. */
export async function checkInfo(
  store: ContentStore,
  digest: string,
  want: { size: number; labels?: Record<string, string> },
  created: [number, number],
  updated: [number, number],
  what: string,
): Promise<Info> {
  const info = await store.info(digest);
  assert.equal(info.digest, digest, `${what}: info digest`);
  assert.equal(info.size, want.size, `${what}: info size`);
  assertBetween(info.createdAt, created[0], created[1], `${what}: createdAt`);
  assertBetween(info.updatedAt, updated[0], updated[1], `${what}: updatedAt`);
  assert.deepEqual({ ...info.labels }, want.labels ?? {}, `${what}: labels`);
  return info;
}

/** listDigests collects the digests `store.list(filters)` yields, sorted. */
export async function listDigests(store: ContentStore, filters?: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(filters)) out.push(info.digest);
  return out.sort();
}

/** withWriter runs `fn` with a writer and always closes it afterwards. */
export async function withWriter<T>(w: Writer, fn: (w: Writer) => Promise<T>): Promise<T> {
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}
