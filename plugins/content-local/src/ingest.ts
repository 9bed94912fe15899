import { createHash } from 'node:crypto';
import { readFile, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '@ctrd/errdefs';
import type { Status } from '@ctrd/content';
import { errnoOf, isENOENT, settleAll, writeFileAtomic } from './fsutil.js';

/**
 * IngestPaths are the files of one ingest directory, `ingest/<sha256(ref)>/`, laid out as
 * containerd lays them out (plus `expected`, which containerd keeps in its metadata instead).
 */
export interface IngestPaths {
  dir: string;
  data: string;
  ref: string;
  startedAt: string;
  updatedAt: string;
  total: string;
  expected: string;
}

/** ingestPaths names the files of the ingest for `ref` under the store's `ingest/` directory. */
export function ingestPaths(ingestRoot: string, ref: string): IngestPaths {
  // Hashing the ref gives a fixed-length, path-safe name; it is not the content's digest.
  return ingestPathsOf(join(ingestRoot, createHash('sha256').update(ref).digest('hex')));
}

/** ingestPathsOf names the files of the ingest directory `dir`. */
export function ingestPathsOf(dir: string): IngestPaths {
  return {
    dir,
    data: join(dir, 'data'),
    ref: join(dir, 'ref'),
    startedAt: join(dir, 'startedat'),
    updatedAt: join(dir, 'updatedat'),
    total: join(dir, 'total'),
    expected: join(dir, 'expected'),
  };
}

/** IngestMeta is what an ingest directory records besides its data. */
export interface IngestMeta {
  ref: string;
  total: number;
  expected: string;
  startedAt: Date;
  updatedAt: Date;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
}

/**
 * parseTimestamp reads an RFC 3339 time as Go's `time.MarshalText` writes it, including
 * nanosecond fractions that `Date` cannot parse directly.
 */
export function parseTimestamp(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = (m[2] ?? '').slice(0, 3).padEnd(3, '0');
  const d = new Date(`${m[1]}.${ms}${m[3]}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * writeIngestMeta records a fresh ingest's ref, times, total and expected digest. The files are
 * independent, so they are written at once: one thread-pool round trip instead of five.
 */
export async function writeIngestMeta(p: IngestPaths, meta: IngestMeta): Promise<void> {
  const writes = [writeFile(p.ref, meta.ref), writeFile(p.startedAt, meta.startedAt.toISOString()), writeFile(p.updatedAt, meta.updatedAt.toISOString())];
  if (meta.total > 0) writes.push(writeFile(p.total, String(meta.total)));
  if (meta.expected !== '') writes.push(writeFile(p.expected, meta.expected));
  await settleAll(writes);
}

/**
 * removeIngest deletes an ingest directory: its known files at once, then the directory, and
 * only when something unexpected is left in it a recursive removal. Missing files are fine.
 */
export async function removeIngest(p: IngestPaths): Promise<void> {
  const files = [p.data, p.ref, p.startedAt, p.updatedAt, p.total, p.expected];
  await settleAll(files.map((f) => unlink(f).catch((err: unknown) => {
    if (!isENOENT(err)) throw err;
  })));
  try {
    await rmdir(p.dir);
  } catch (err) {
    if (isENOENT(err)) return;
    if (errnoOf(err) !== 'ENOTEMPTY' && errnoOf(err) !== 'EEXIST') throw err;
    await rm(p.dir, { recursive: true, force: true });
  }
}

/** writeUpdatedAt replaces the ingest's `updatedat` file. */
export async function writeUpdatedAt(p: IngestPaths, at: Date): Promise<void> {
  await writeFileAtomic(p.updatedAt, at.toISOString());
}

/**
 * readIngestMeta reads an ingest directory's records. A directory without its `ref` file, or
 * with an empty one, is NotFound: it is being created or removed, or a process was killed
 * between creating the file and writing it (no ref is empty). Unreadable times fall back to `fallback`.
 */
export async function readIngestMeta(p: IngestPaths, fallback: Date): Promise<IngestMeta> {
  const ref = await readOptional(p.ref);
  if (ref === undefined || ref === '') throw new NotFoundError(`ingest ${p.dir}`);
  const total = Number.parseInt((await readOptional(p.total)) ?? '0', 10);
  return {
    ref,
    total: Number.isSafeInteger(total) && total > 0 ? total : 0,
    expected: ((await readOptional(p.expected)) ?? '').trim(),
    startedAt: parseTimestamp(await readOptional(p.startedAt)) ?? fallback,
    updatedAt: parseTimestamp(await readOptional(p.updatedAt)) ?? fallback,
  };
}

/**
 * readIngestStatus is the status of the ingest in `p`: the offset is the data file's size, and
 * `updatedAt` the later of the recorded time and the data's mtime (the record is only rewritten
 * when a writer closes). NotFound when the ingest is absent or incomplete.
 */
export async function readIngestStatus(p: IngestPaths): Promise<Status> {
  let st;
  try {
    st = await stat(p.data);
  } catch (err) {
    if (isENOENT(err)) throw new NotFoundError(`ingest ${p.dir}`, { cause: err });
    throw err;
  }
  const meta = await readIngestMeta(p, st.mtime);
  const mtime = new Date(Math.floor(st.mtimeMs));
  return {
    ref: meta.ref,
    offset: st.size,
    total: meta.total,
    expected: meta.expected,
    startedAt: meta.startedAt,
    updatedAt: mtime > meta.updatedAt ? mtime : meta.updatedAt,
  };
}
