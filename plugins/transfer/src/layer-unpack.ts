import type { ContentStore } from '@ctrd/content';
import type { LayerApplyResult } from '@ctrd/diff';
import { applyInWorker, overlayTarget } from '@ctrd/differ-walking';
import { FailedPreconditionError, isAlreadyExists, isNotFound } from '@ctrd/errdefs';
import { SNAPSHOT_REF_LABEL, UNCOMPRESSED_LABEL, unpackKey } from '@ctrd/images';
import { withTempMount, type Mount } from '@ctrd/mount';
import type { Descriptor } from '@ctrd/remotes';
import type { Snapshotter } from '@ctrd/snapshots';
import type { LayerTee } from './layer-tee.js';
import { fault } from '@ctrd/fault';
import type { TransferHooks } from './types.js';

// Layer annotations with this prefix are passed on to the snapshots made from the layer.
const INHERITED_LABEL_PREFIX = 'containerd.io/snapshot/';

/** LayerJob is one layer to unpack: its blob, its diffID and chain ID, and the parent chain ID. */
export interface LayerJob {
  layer: Descriptor;
  diffId: string;
  chainId: string;
  parent: string | undefined;
  /** settles when the blob is committed to the content store (rejects when its download failed). */
  downloaded: Promise<unknown>;
  /** the download's tee, to apply while downloading; absent or detached means read the stored blob. */
  tee?: LayerTee;
}

/** UnpackContext is what unpacking a layer works with. */
export interface UnpackContext {
  snapshotter: Snapshotter;
  /** the snapshotter's name and namespace: the scope in which concurrent unpacks of a chain ID meet. */
  scope: string;
  content: ContentStore;
  mountDir?: string;
  signal?: AbortSignal;
  hooks?: TransferHooks;
  /** called when the apply of a layer starts. */
  started?(job: LayerJob): void;
}

const inflight = new Map<string, Promise<boolean>>();

async function exists(sn: Snapshotter, key: string): Promise<boolean> {
  try {
    await sn.stat(key);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function applyOnto(mounts: Mount[], stream: AsyncIterable<Uint8Array>, layer: Descriptor, o: UnpackContext, verifiedByStore: boolean): Promise<LayerApplyResult> {
  // Bytes the content store verifies at commit need no second hash: only the diffID is left to check.
  // Both sources hand their chunks over: the tee's were written to the store before they were
  // pushed, and a content reader's stream yields fresh buffers.
  const common = {
    mediaType: layer.mediaType, expectedDigest: layer.digest, digestVerified: verifiedByStore, chunksOwned: true, ...(o.signal ? { signal: o.signal } : {}),
  };
  const ovl = overlayTarget(mounts);
  if (ovl) return applyInWorker(stream, ovl.upper, { ...common, overlay: true, parents: ovl.lowers });
  return withTempMount(mounts, (root) => applyInWorker(stream, root, { ...common, overlay: false }), o.mountDir ? { dir: o.mountDir } : undefined);
}

async function storedStream(content: ContentStore, layer: Descriptor): Promise<{ stream: AsyncIterable<Uint8Array>; close(): Promise<void> }> {
  const ra = await content.readerAt({ digest: layer.digest, size: layer.size });
  return { stream: ra.stream(), close: () => ra.close() };
}

async function applyJob(o: UnpackContext, job: LayerJob): Promise<boolean> {
  const sn = o.snapshotter;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.layer.annotations ?? {})) if (k.startsWith(INHERITED_LABEL_PREFIX)) labels[k] = v;
  labels[SNAPSHOT_REF_LABEL] = job.chainId;
  let key = '';
  let mounts: Mount[] = [];
  for (let attempt = 1; ; attempt++) {
    key = unpackKey(job.chainId);
    try {
      mounts = await sn.prepare(key, job.parent, { labels });
      break;
    } catch (err) {
      if (!isAlreadyExists(err) || attempt >= 3) throw err;
      if (await exists(sn, job.chainId)) return false;
    }
  }
  try {
    const live = await job.tee?.attach();
    o.started?.(job);
    o.hooks?.applyStart?.(job.layer.digest, live !== undefined);
    let res: LayerApplyResult;
    if (live) {
      // Both must succeed. The tee hands the apply the very chunks the store writes and verifies
      // at commit, so the apply does not hash the compressed bytes a second time; what the
      // snapshot receives is checked by the diffID below in any case. Wait for both to settle so
      // that no mount outlives the snapshot removed on failure.
      const [applied, dl] = await Promise.allSettled([applyOnto(mounts, live, job.layer, o, true), job.downloaded]);
      if (dl.status === 'rejected') throw dl.reason;
      if (applied.status === 'rejected') throw applied.reason;
      res = applied.value;
    } else {
      await job.downloaded;
      const blob = await storedStream(o.content, job.layer);
      try {
        res = await applyOnto(mounts, blob.stream, job.layer, o, true);
      } finally {
        await blob.close();
      }
    }
    if (res.size !== job.layer.size) {
      throw new FailedPreconditionError(`layer ${job.layer.digest} is ${res.size} bytes, descriptor says ${job.layer.size}`);
    }
    if (res.diffID !== job.diffId) {
      throw new FailedPreconditionError(`wrong diff id calculated on extraction of layer ${job.layer.digest}: got ${res.diffID}, want ${job.diffId}`);
    }
    fault('transfer.unpack');
    try {
      await sn.commit(job.chainId, key, { labels });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await sn.remove(key).catch(() => undefined);
      return false;
    }
  } catch (err) {
    await sn.remove(key).catch(() => undefined);
    // The download may still be running or failing on its own: its outcome is reported by the pull.
    job.downloaded.catch(() => undefined);
    throw err;
  }
  await o.content.update({ digest: job.layer.digest, labels: { [UNCOMPRESSED_LABEL]: job.diffId } }, [`labels.${UNCOMPRESSED_LABEL}`]);
  return true;
}

/**
 * unpackLayer makes the committed snapshot `job.chainId` exist: it does nothing when it does,
 * waits for a concurrent unpack of the same chain ID in the same scope, or else prepares
 * `extract-… <chainID>` on the parent, applies the layer (streamed from the download when the
 * tee allows, else read from the store once committed) and commits it, only when the blob was
 * committed with its digest verified and the diffID equals the config's. On any failure the
 * active snapshot is removed. Resolves to whether this call applied the layer.
 */
export async function unpackLayer(o: UnpackContext, job: LayerJob): Promise<boolean> {
  const id = `${o.scope}\0${job.chainId}`;
  for (;;) {
    const running = inflight.get(id);
    if (running) {
      await running.catch(() => undefined);
      continue;
    }
    if (await exists(o.snapshotter, job.chainId)) {
      job.tee?.detach();
      return false;
    }
    if (inflight.has(id)) continue;
    const p = applyJob(o, job);
    inflight.set(id, p);
    try {
      return await p;
    } finally {
      inflight.delete(id);
    }
  }
}
