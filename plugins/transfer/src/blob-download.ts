import { openWriter, readBlob, type ContentStore, type Writer } from '@ctrd/content';
import { DataLossError, FailedPreconditionError, isAlreadyExists, isFailedPrecondition } from '@ctrd/errdefs';
import { isConfigType, isIndexType, isLayerType, isManifestType, type Descriptor, type Fetcher } from '@ctrd/remotes';
import type { LayerTee } from './layer-tee.js';
import { fault } from '@ctrd/fault';
import type { BlobState, ProgressEvent } from './types.js';

/** PROGRESS_INTERVAL_MS spaces the byte-count reports of one blob. */
const PROGRESS_INTERVAL_MS = 100;
/** WRITE_BATCH is the most a download gathers before writing it to the store. */
const WRITE_BATCH = 1 << 20;

/**
 * ingestRef names the ingest of `desc` as containerd does (`layer-<digest>`, `manifest-…`,
 * `index-…`, `config-…`, else `unknown-…`), so that concurrent pulls of one blob in a namespace
 * meet on one ingest and one download.
 */
export function ingestRef(desc: Descriptor): string {
  const mt = desc.mediaType;
  const kind = isManifestType(mt) ? 'manifest' : isIndexType(mt) ? 'index' : isLayerType(mt) ? 'layer' : isConfigType(mt) ? 'config' : 'unknown';
  return `${kind}-${desc.digest}`;
}

/** DownloadContext is what one download needs besides its descriptor. */
export interface DownloadContext {
  content: ContentStore;
  fetcher: Fetcher;
  signal?: AbortSignal;
  onProgress?(ev: ProgressEvent): void;
  /** counts the bytes received from the registry. */
  received(n: number): void;
  downloadEnd?(digest: string): void;
}

/** DownloadOutcome says whether a blob was already present or had to be (partly) downloaded. */
export type DownloadOutcome = 'exists' | 'downloaded';

function report(ctx: DownloadContext, desc: Descriptor, state: BlobState, offset: number): void {
  ctx.onProgress?.({ type: 'blob', digest: desc.digest, mediaType: desc.mediaType, state, offset, total: desc.size });
}

/**
 * downloadBlob makes sure `desc` is committed to the content store. It opens the blob's ingest
 * (waiting while another download holds it; AlreadyExists means that one finished), resumes at
 * the ingest's offset, streams the rest from the registry into the ingest and, when given,
 * into `tee` (only when the download starts at byte 0), then commits with the expected size
 * and digest. A digest or size mismatch aborts the ingest, so no later pull resumes bad data,
 * and fails with FailedPrecondition; any other failure keeps the ingest for a resume.
 */
export async function downloadBlob(ctx: DownloadContext, desc: Descriptor, tee?: LayerTee): Promise<DownloadOutcome> {
  const ref = ingestRef(desc);
  let w: Writer;
  try {
    w = await openWriter(ctx.content, { ref, total: desc.size, expected: desc.digest }, ctx.signal ? { signal: ctx.signal } : {});
  } catch (err) {
    tee?.detach();
    if (isAlreadyExists(err)) {
      report(ctx, desc, 'exists', desc.size);
      return 'exists';
    }
    throw err;
  }
  let committed = false;
  try {
    let { offset } = await w.status();
    if (offset > desc.size) {
      await w.truncate(0);
      offset = 0;
    }
    // A resumed download cannot feed the apply from the blob's first byte: it reads the stored blob.
    if (offset > 0) tee?.detach();
    else tee?.start();
    report(ctx, desc, 'downloading', offset);
    if (offset < desc.size) {
      const stream = await ctx.fetcher.fetch(desc, { offset, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      let last = 0;
      // Network chunks are small (16-64 KiB): gathered into one write of up to WRITE_BATCH, the
      // store sees a few hundred writes per 200 MB instead of thousands of thread-pool round trips.
      let batch: Uint8Array[] = [];
      let batched = 0;
      const flush = async (): Promise<void> => {
        if (batched === 0) return;
        const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
        batch = [];
        batched = 0;
        await w.write(data);
        offset += data.length;
        // Last use of `data`: the tee's consumer may move its buffer away.
        if (tee) await tee.push(data);
      };
      try {
        for await (const c of stream) {
          const chunk = c as Uint8Array;
          if (offset + batched + chunk.length > desc.size) {
            throw new FailedPreconditionError(`unexpected commit size ${offset + batched + chunk.length}, expected ${desc.size}: ${desc.digest}`);
          }
          batch.push(chunk);
          batched += chunk.length;
          ctx.received(chunk.length);
          if (batched >= WRITE_BATCH) await flush();
          const now = Date.now();
          if (now - last >= PROGRESS_INTERVAL_MS) {
            last = now;
            report(ctx, desc, 'downloading', offset + batched);
          }
        }
        await flush();
      } catch (err) {
        // What arrived before a network failure is kept for the resume; bad bytes are not.
        if (!isFailedPrecondition(err)) await flush().catch(() => undefined);
        throw err;
      } finally {
        stream.destroy();
      }
      if (offset < desc.size) throw new DataLossError(`download of ${desc.digest} ended at ${offset} of ${desc.size} bytes`);
    }
    tee?.end();
    ctx.downloadEnd?.(desc.digest);
    try {
      await w.commit(desc.size, desc.digest);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    committed = true;
    fault('transfer.fetch');
    report(ctx, desc, 'done', desc.size);
    return 'downloaded';
  } catch (err) {
    tee?.end(err);
    if (isFailedPrecondition(err)) {
      // Bad bytes must not be resumed: drop the ingest.
      await w.close().catch(() => undefined);
      await ctx.content.abort(ref).catch(() => undefined);
    }
    throw err;
  } finally {
    if (!committed) await w.close().catch(() => undefined);
  }
}

/**
 * fetchDocument makes sure a small blob (manifest, index, config) is stored, then reads it back.
 * Manifests and configs are verified by the content store's commit like any blob.
 */
export async function fetchDocument(ctx: DownloadContext, desc: Descriptor): Promise<Uint8Array> {
  await downloadBlob(ctx, desc);
  return readBlob(ctx.content, desc);
}
