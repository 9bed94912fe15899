import { randomBytes, createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { ContentStore } from '@ctrd/content';
import {
  MediaType, UNCOMPRESSED_LABEL, compressionOf, type ApplyOptions, type CompareOptions, type Compression,
  type Descriptor, type Differ,
} from '@ctrd/diff';
import { CanceledError, InvalidArgumentError, UnknownError, isAlreadyExists } from '@ctrd/errdefs';
import { withTempMount, type Mount } from '@ctrd/mount';
import { applyInWorker } from './worker-apply.js';
import { diffTar } from './compare.js';

/** WalkingDifferStore is the part of a content store the walking differ uses. */
export type WalkingDifferStore = Pick<ContentStore, 'readerAt' | 'writer' | 'abort'>;

/** WalkingDifferOptions tune {@link createWalkingDiffer}. */
export interface WalkingDifferOptions {
  /** where temporary mount points are made (the system temp dir by default). */
  mountDir?: string;
}

/**
 * overlayTarget recognises the mounts of an active overlay snapshot (one `overlay` mount with
 * an `upperdir`): such a layer is applied straight onto the upper directory with overlay
 * whiteouts, and the lower directories supply attributes for missing parents.
 */
export function overlayTarget(mounts: readonly Mount[]): { upper: string; lowers: string[] } | null {
  if (mounts.length !== 1 || mounts[0]!.type !== 'overlay') return null;
  let upper: string | undefined;
  let lowers: string[] = [];
  for (const o of mounts[0]!.options) {
    if (o.startsWith('upperdir=')) upper = o.slice('upperdir='.length);
    else if (o.startsWith('lowerdir=')) lowers = o.slice('lowerdir='.length).split(':');
  }
  return upper ? { upper, lowers } : null;
}

const readOnly = (mounts: readonly Mount[]): Mount[] =>
  mounts.map((m) => (m.options.includes('ro') ? m : { ...m, options: [...m.options.filter((o) => o !== 'rw'), 'ro'] }));

function compressor(c: Compression, input: Readable): Readable {
  if (c === 'uncompressed') return input;
  if (c === 'gzip') return input.pipe(createGzip());
  const child = spawn('zstd', ['-c', '-q', '-3'], { stdio: ['pipe', 'pipe', 'ignore'] });
  input.pipe(child.stdin);
  child.stdin.on('error', () => {});
  child.on('error', (err) => child.stdout.destroy(err));
  child.on('close', (status) => {
    if (status !== 0) child.stdout.destroy(new UnknownError(`zstd exited with ${status}`));
  });
  return child.stdout;
}

/**
 * createWalkingDiffer returns containerd's "walking" differ over a content store: `apply`
 * streams a blob onto mounts (directly onto an overlay upperdir, else through a temporary
 * mount) on an apply worker thread ({@link applyInWorker}), so a Diff service Apply does not
 * block the daemon's event loop, and `compare` walks two read-only temporary mounts and stores the difference as a
 * new layer blob.
 */
export function createWalkingDiffer(store: WalkingDifferStore, options: WalkingDifferOptions = {}): Differ {
  async function apply(desc: Descriptor, mounts: Mount[], opts: ApplyOptions = {}): Promise<Descriptor> {
    compressionOf(desc.mediaType);
    const reader = await store.readerAt({ digest: desc.digest, size: desc.size });
    try {
      const common = {
        mediaType: desc.mediaType, expectedDigest: desc.digest, signal: opts.signal,
        maxUncompressedSize: opts.maxUncompressedSize,
        // The store verified the blob's digest when it was committed.
        digestVerified: true,
        // A content reader's stream yields chunks that are the caller's.
        chunksOwned: true,
      };
      const ovl = overlayTarget(mounts);
      const res = ovl
        ? await applyInWorker(reader.stream(), ovl.upper, { ...common, overlay: true, parents: ovl.lowers })
        : await withTempMount(mounts, (root) => applyInWorker(reader.stream(), root, { ...common, overlay: false }), { dir: options.mountDir });
      if (res.size !== desc.size) throw new InvalidArgumentError(`layer ${desc.digest} is ${res.size} bytes, descriptor says ${desc.size}`);
      return { mediaType: MediaType.OCILayer, digest: res.diffID, size: res.uncompressedSize };
    } finally {
      await reader.close();
    }
  }

  async function compare(lower: Mount[], upper: Mount[], opts: CompareOptions = {}): Promise<Descriptor> {
    const mediaType = opts.mediaType ?? MediaType.OCILayerGzip;
    const compression = compressionOf(mediaType);
    const ref = opts.ref ?? `diff-${randomBytes(12).toString('hex')}`;
    return withTempMount(readOnly(lower), (lowerRoot) =>
      withTempMount(readOnly(upper), async (upperRoot) => {
        const diffID = createHash('sha256');
        const blob = createHash('sha256');
        let size = 0;
        const tar = Readable.from((async function* () {
          for await (const chunk of diffTar(lowerRoot, upperRoot)) {
            diffID.update(chunk);
            yield chunk;
          }
        })());
        const out = compressor(compression, tar);
        const w = await store.writer({ ref });
        let committed = false;
        try {
          for await (const chunk of out as AsyncIterable<Buffer>) {
            if (opts.signal?.aborted) throw new CanceledError('diff canceled');
            blob.update(chunk);
            size += chunk.length;
            await w.write(chunk);
          }
          const digest = `sha256:${blob.digest('hex')}`;
          const labels = { ...opts.labels, [UNCOMPRESSED_LABEL]: `sha256:${diffID.digest('hex')}` };
          try {
            await w.commit(size, digest, { labels });
          } catch (err) {
            if (!isAlreadyExists(err)) throw err;
          }
          committed = true;
          return { mediaType, digest, size };
        } finally {
          if (!committed) {
            await w.close().catch(() => {});
            await store.abort(ref).catch(() => {});
          }
          tar.destroy();
        }
      }, { dir: options.mountDir }), { dir: options.mountDir });
  }

  return { apply, compare };
}
