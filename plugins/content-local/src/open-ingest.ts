import { createHash } from 'node:crypto';
import { chmod, mkdir, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { UnknownError } from '@ctrd/errdefs';
import { errnoOf, isENOENT, settleAll } from './fsutil.js';
import { readIngestMeta, writeIngestMeta, type IngestPaths } from './ingest.js';
import { rehash, type WriterState } from './local-writer.js';

/** IngestRequest is what a writer declares when it opens an ingest. */
export interface IngestRequest {
  ref: string;
  /** declared size, 0 when unknown. */
  total: number;
  /** declared digest, `''` when unknown. */
  expected: string;
}

type OpenedIngest = Omit<WriterState, 'release'>;

async function fresh(p: IngestPaths, req: IngestRequest): Promise<OpenedIngest> {
  const now = new Date();
  const opening = open(p.data, 'w+', 0o644);
  try {
    await settleAll([writeIngestMeta(p, { ...req, startedAt: now, updatedAt: now }), opening]);
  } catch (err) {
    await opening.then((fh) => fh.close(), () => undefined).catch(() => undefined);
    throw err;
  }
  const fh = await opening;
  return { ref: req.ref, paths: p, fh, hash: createHash('sha256'), offset: 0, total: req.total, expected: req.expected, startedAt: now, updatedAt: now };
}

async function resume(p: IngestPaths, req: IngestRequest, chunkSize: number): Promise<OpenedIngest | undefined> {
  let fh: FileHandle;
  try {
    fh = await openWritable(p.data);
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
  try {
    const st = await fh.stat();
    const meta = await readIngestMeta(p, st.mtime).catch(() => undefined);
    if (meta === undefined) return await closeAnd(fh, undefined);
    if (meta.ref !== req.ref) {
      throw new UnknownError(`ingest at ${p.dir} records ref ${JSON.stringify(meta.ref)}, not ${JSON.stringify(req.ref)}`);
    }
    // A different declared size means a different upload under a reused ref: start over.
    if (req.total > 0 && meta.total > 0 && req.total !== meta.total) return await closeAnd(fh, undefined);
    // No portable way exists to save sha256 state, so the digest is rebuilt from the bytes on disk.
    const { hash, read } = await rehash(fh, st.size, chunkSize);
    if (read !== st.size) await fh.truncate(read);
    const total = meta.total > 0 ? meta.total : req.total;
    if (meta.total === 0 && total > 0) await writeFile(p.total, String(total));
    const expected = req.expected !== '' ? req.expected : meta.expected;
    if (expected !== meta.expected) await writeFile(p.expected, expected);
    const updatedAt = st.mtime > meta.updatedAt ? new Date(Math.floor(st.mtimeMs)) : meta.updatedAt;
    return { ref: req.ref, paths: p, fh, hash, offset: read, total, expected, startedAt: meta.startedAt, updatedAt };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

async function closeAnd<T>(fh: FileHandle, value: T): Promise<T> {
  await fh.close();
  return value;
}

/**
 * openIngest creates the ingest directory for `req.ref`, or resumes the one already there: the
 * data is kept and re-hashed, and the writer continues at its end. An ingest that cannot be
 * resumed (half-created, unreadable records, a different declared total) starts again empty.
 * The caller holds the ref's lock.
 */
export async function openIngest(p: IngestPaths, req: IngestRequest, chunkSize: number): Promise<OpenedIngest> {
  try {
    await mkdir(p.dir);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
    const resumed = await resume(p, req, chunkSize);
    if (resumed !== undefined) return resumed;
    await rm(p.dir, { recursive: true, force: true });
    await mkdir(p.dir);
  }
  return fresh(p, req);
}

/**
 * openWritable opens an ingest's data for a resume. A commit interrupted after it sealed the
 * file (read-only, before the rename into blobs/) leaves it without write bits, which only a
 * process without CAP_DAC_OVERRIDE notices: the bits are given back.
 */
async function openWritable(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (err) {
    if (errnoOf(err) !== 'EACCES') throw err;
    await chmod(path, 0o644);
    return open(path, 'r+');
  }
}
