import { randomBytes } from 'node:crypto';
import type { Manager, Provider } from '@ctrd/content';
import type { ApplyOptions, Applier } from '@ctrd/diff';
import { FailedPreconditionError, isAlreadyExists, isNotFound } from '@ctrd/errdefs';
import { defaultMatcher, type Descriptor, type PlatformMatcher } from '@ctrd/remotes';
import type { Snapshotter } from '@ctrd/snapshots';
import { chainIds } from './chain-id.js';
import { imageConfig, rootFS } from './image.js';

/** UNCOMPRESSED_LABEL is the content label holding a layer blob's diffID. */
export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';
/** SNAPSHOT_REF_LABEL is the snapshot label holding the chain ID an unpack committed it as. */
export const SNAPSHOT_REF_LABEL = 'containerd.io/snapshot.ref';
/** GC_SNAPSHOT_LABEL_PREFIX, followed by a snapshotter name, references the image's top snapshot from its config. */
export const GC_SNAPSHOT_LABEL_PREFIX = 'containerd.io/gc.ref.snapshot.';
// Layer annotations with this prefix are passed on to the snapshots made from the layer.
const INHERITED_LABEL_PREFIX = 'containerd.io/snapshot/';

/** UnpackOptions say what to unpack, where, and with which services. */
export interface UnpackOptions {
  /** reads the manifest, config and (through the applier) layers. */
  provider: Provider;
  /** receives the `containerd.io/uncompressed` and `containerd.io/gc.ref.snapshot.*` labels. */
  content: Pick<Manager, 'update'>;
  snapshotter: Snapshotter;
  /** the snapshotter's name, used in the config's GC label. */
  snapshotterName: string;
  applier: Applier;
  /** the image's target: a manifest or an index. */
  target: Descriptor;
  /** the platform to unpack; the host's by default. */
  matcher?: PlatformMatcher;
  applyOptions?: ApplyOptions;
  /**
   * scope of the de-duplication of concurrent unpacks of one chain ID: unpacks with the same
   * scope share their work. By default the snapshotter object itself.
   */
  scope?: object | string;
}

/** UnpackedLayer reports one layer of an unpack. */
export interface UnpackedLayer {
  chainId: string;
  diffId: string;
  /** false when the snapshot already existed, or another unpack committed it first. */
  applied: boolean;
}

/** UnpackResult reports an unpack: the config, the top chain ID and every layer. */
export interface UnpackResult {
  config: Descriptor;
  chainId: string;
  layers: UnpackedLayer[];
}

const byObject = new WeakMap<object, Map<string, Promise<boolean>>>();
const byName = new Map<string, Map<string, Promise<boolean>>>();

function inflightOf(scope: object | string): Map<string, Promise<boolean>> {
  if (typeof scope === 'string') {
    let m = byName.get(scope);
    if (!m) byName.set(scope, (m = new Map()));
    return m;
  }
  let m = byObject.get(scope);
  if (!m) byObject.set(scope, (m = new Map()));
  return m;
}

/** unpackKey returns a fresh active snapshot key for extracting `chainId`: `extract-<nanos>-<rand> <chainId>`. */
export function unpackKey(chainId: string): string {
  const nanos = process.hrtime.bigint() % 1_000_000_000n;
  return `extract-${nanos}-${randomBytes(3).toString('base64url')} ${chainId}`;
}

async function exists(sn: Snapshotter, key: string): Promise<boolean> {
  try {
    await sn.stat(key);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

interface LayerJob {
  layer: Descriptor;
  diffId: string;
  chainId: string;
  parent: string | undefined;
}

async function applyLayer(o: UnpackOptions, job: LayerJob): Promise<boolean> {
  const sn = o.snapshotter;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.layer.annotations ?? {})) {
    if (k.startsWith(INHERITED_LABEL_PREFIX)) labels[k] = v;
  }
  labels[SNAPSHOT_REF_LABEL] = job.chainId;
  let key = '';
  let mounts;
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
  const abort = async (): Promise<void> => {
    await sn.remove(key).catch(() => undefined);
  };
  let diff: Descriptor;
  try {
    diff = await o.applier.apply(job.layer, mounts, o.applyOptions);
  } catch (err) {
    await abort();
    throw err;
  }
  if (diff.digest !== job.diffId) {
    await abort();
    throw new FailedPreconditionError(
      `wrong diff id calculated on extraction of layer ${job.layer.digest}: got ${diff.digest}, want ${job.diffId}`,
    );
  }
  try {
    await sn.commit(job.chainId, key, { labels });
  } catch (err) {
    await abort();
    if (isAlreadyExists(err)) return false;
    throw err;
  }
  await o.content.update({ digest: job.layer.digest, labels: { [UNCOMPRESSED_LABEL]: diff.digest } }, [
    `labels.${UNCOMPRESSED_LABEL}`,
  ]);
  return true;
}

async function unpackLayer(o: UnpackOptions, job: LayerJob): Promise<boolean> {
  const inflight = inflightOf(o.scope ?? o.snapshotter);
  for (;;) {
    const running = inflight.get(job.chainId);
    if (running) {
      // Whatever the other unpack's outcome, look again: it may have committed, or failed.
      await running.catch(() => undefined);
      continue;
    }
    if (await exists(o.snapshotter, job.chainId)) return false;
    if (inflight.has(job.chainId)) continue;
    const p = applyLayer(o, job);
    inflight.set(job.chainId, p);
    try {
      return await p;
    } finally {
      inflight.delete(job.chainId);
    }
  }
}

/**
 * unpackImage unpacks one platform of an image into a snapshotter, layer by layer: each layer
 * becomes the committed snapshot named by its chain ID (labelled `containerd.io/snapshot.ref`),
 * prepared under a unique `extract-… <chainID>` key on the previous layer's snapshot. Existing
 * snapshots are reused; concurrent unpacks of one chain ID in the same scope apply it once.
 * An applied layer's blob gets `containerd.io/uncompressed=<diffID>`, and the config finally
 * gets `containerd.io/gc.ref.snapshot.<snapshotter>=<top chain ID>`. A diffID differing from
 * the config's removes the extraction snapshot and fails with FailedPrecondition.
 */
export async function unpackImage(o: UnpackOptions): Promise<UnpackResult> {
  const { manifest, configDesc, config } = await imageConfig(o.provider, o.target, o.matcher ?? defaultMatcher());
  const layers = manifest.layers ?? [];
  const diffIds = rootFS(config, layers);
  const chain = chainIds(diffIds);
  const out: UnpackedLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const job: LayerJob = { layer: layers[i]!, diffId: diffIds[i]!, chainId: chain[i]!, parent: chain[i - 1] };
    out.push({ chainId: job.chainId, diffId: job.diffId, applied: await unpackLayer(o, job) });
  }
  const top = chain.at(-1) ?? '';
  if (top !== '') {
    const key = `${GC_SNAPSHOT_LABEL_PREFIX}${o.snapshotterName}`;
    await o.content.update({ digest: configDesc.digest, labels: { [key]: top } }, [`labels.${key}`]);
  }
  return { config: configDesc, chainId: top, layers: out };
}
