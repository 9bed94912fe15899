import { readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { NotFoundError } from '@ctrd/errdefs';
import type { Info } from '@ctrd/content';
import { isENOENT, writeFileDurable } from './fsutil.js';
import { parseTimestamp } from './ingest.js';

/**
 * BlobRecord is the sidecar kept beside each blob, `info/sha256/<hex>.json`: the times and
 * labels of `Info`, which the blob file itself cannot hold.
 */
export interface BlobRecord {
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

/** encodeRecord serialises a sidecar as JSON. */
export function encodeRecord(r: BlobRecord): string {
  return `${JSON.stringify({ createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), labels: r.labels })}\n`;
}

function decodeRecord(text: string): BlobRecord | undefined {
  try {
    const raw = JSON.parse(text) as { createdAt?: unknown; updatedAt?: unknown; labels?: unknown };
    const createdAt = typeof raw.createdAt === 'string' ? parseTimestamp(raw.createdAt) : undefined;
    const updatedAt = typeof raw.updatedAt === 'string' ? parseTimestamp(raw.updatedAt) : undefined;
    if (createdAt === undefined || updatedAt === undefined) return undefined;
    const labels: Record<string, string> = {};
    if (raw.labels !== null && typeof raw.labels === 'object') {
      for (const [k, v] of Object.entries(raw.labels)) if (typeof v === 'string') labels[k] = v;
    }
    return { createdAt, updatedAt, labels };
  } catch {
    return undefined;
  }
}

/**
 * readRecord reads a blob's sidecar. A blob without a readable one (written by another tool, or
 * a crash between publishing and labelling) has no labels and takes its times from the file.
 */
export async function readRecord(sidecar: string, blobStat: Stats): Promise<BlobRecord> {
  let text: string | undefined;
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
  const rec = text === undefined ? undefined : decodeRecord(text);
  if (rec !== undefined) return rec;
  const mtime = new Date(Math.round(blobStat.mtimeMs));
  return { createdAt: mtime, updatedAt: mtime, labels: {} };
}

/** writeRecord durably replaces a blob's sidecar. */
export async function writeRecord(sidecar: string, r: BlobRecord): Promise<void> {
  await writeFileDurable(sidecar, encodeRecord(r));
}

/** statBlob stats a blob file, mapping its absence to NotFound (`content digest <d>`). */
export async function statBlob(path: string, digest: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    if (isENOENT(err)) throw new NotFoundError(`content digest ${digest}`, { cause: err });
    throw err;
  }
}

/** toInfo combines a blob's stat and sidecar into an Info. */
export function toInfo(digest: string, st: Stats, r: BlobRecord): Info {
  return { digest, size: st.size, createdAt: r.createdAt, updatedAt: r.updatedAt, labels: r.labels };
}
