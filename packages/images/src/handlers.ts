import { readBlob, type Provider, type Manager } from '@ctrd/content';
import { InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import {
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  stripParams,
  type Descriptor,
  type PlatformMatcher,
} from '@ctrd/remotes';

/** SKIP is what a {@link Handler} returns to leave a descriptor's children unvisited. */
export const SKIP: unique symbol = Symbol('ctrd.images.skip');
/** STOP is what a handler inside {@link handlers} returns to end the chain for this descriptor. */
export const STOP: unique symbol = Symbol('ctrd.images.stop');

/** HandlerResult is a handler's answer: the children to visit, nothing, {@link SKIP} or {@link STOP}. */
export type HandlerResult = Descriptor[] | void | undefined | typeof SKIP | typeof STOP;

/** Handler visits one descriptor of an image graph and names the children to visit next. */
export type Handler = (desc: Descriptor) => Promise<HandlerResult>;

const listOf = (r: HandlerResult): Descriptor[] => (Array.isArray(r) ? r : []);

/**
 * handlers chains several handlers into one: each runs in turn and their children are
 * concatenated. A {@link STOP} ends the chain keeping what was gathered; a {@link SKIP} ends it
 * and drops the children.
 */
export function handlers(...hs: Handler[]): Handler {
  return async (desc) => {
    const out: Descriptor[] = [];
    for (const h of hs) {
      const r = await h(desc);
      if (r === STOP) break;
      if (r === SKIP) return SKIP;
      out.push(...listOf(r));
    }
    return out;
  };
}

/** walk visits `roots` and their children depth first, one descriptor at a time. */
export async function walk(handler: Handler, ...roots: Descriptor[]): Promise<void> {
  for (const desc of roots) {
    const children = listOf(await handler(desc));
    if (children.length > 0) await walk(handler, ...children);
  }
}

/**
 * walkNotEmpty is {@link walk} that fails with NotFound (`image might be filtered out`) when no
 * descriptor yielded any child, as happens when a platform filter removes every manifest.
 */
export async function walkNotEmpty(handler: Handler, ...roots: Descriptor[]): Promise<void> {
  let empty = true;
  await walk(async (desc) => {
    const r = await handler(desc);
    if (listOf(r).length > 0) empty = false;
    return r;
  }, ...roots);
  if (empty) throw new NotFoundError('image might be filtered out');
}

/** DispatchOptions bound a {@link dispatch}. */
export interface DispatchOptions {
  /** how many handler calls may run at once (unbounded when absent or 0). */
  concurrency?: number;
}

class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async acquire(): Promise<void> {
    if (this.max <= 0 || this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * dispatch visits `roots` and their children concurrently, at most `concurrency` handler calls
 * at a time across the whole graph. After the first failure no new handler call starts; the
 * returned promise settles once every started call has, with that first error.
 */
export async function dispatch(handler: Handler, roots: readonly Descriptor[], opts: DispatchOptions = {}): Promise<void> {
  const limiter = new Limiter(opts.concurrency ?? 0);
  let failure: { err: unknown } | undefined;
  const visit = async (desc: Descriptor): Promise<void> => {
    await limiter.acquire();
    let children: Descriptor[];
    try {
      if (failure) return;
      children = listOf(await handler(desc));
    } catch (err) {
      failure ??= { err };
      return;
    } finally {
      limiter.release();
    }
    await Promise.all(children.map(visit));
  };
  await Promise.all(roots.map(visit));
  if (failure) throw failure.err;
}

/** ImageDocument is the shape shared by manifests and indexes, used to check a media type claim. */
interface ImageDocument {
  mediaType?: string;
  config?: unknown;
  layers?: unknown;
  manifests?: unknown;
  fsLayers?: unknown;
}

/**
 * parseImageDocument parses a manifest or index blob and checks it is what `mediaType` says
 * (InvalidArgument otherwise, and for schema 1 manifests, which are not supported).
 */
export function parseImageDocument<T>(bytes: Uint8Array, mediaType: string, digest: string): T {
  let doc: ImageDocument;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageDocument;
  } catch (err) {
    throw new InvalidArgumentError(`invalid desc ${digest}: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object') throw new InvalidArgumentError(`invalid desc ${digest}: not an object`);
  if (Array.isArray(doc.fsLayers) && doc.fsLayers.length > 0) {
    throw new InvalidArgumentError(`invalid desc ${digest}: media-type: schema 1 not supported`);
  }
  const has = (v: unknown): boolean => v !== undefined && v !== null;
  if (isManifestType(mediaType) && (has(doc.manifests) || (doc.mediaType !== undefined && isIndexType(doc.mediaType)))) {
    throw new InvalidArgumentError(`invalid desc ${digest}: media-type: expected manifest but found index (${mediaType})`);
  }
  if (
    isIndexType(mediaType) &&
    (has(doc.config) || has(doc.layers) || (doc.mediaType !== undefined && isManifestType(doc.mediaType)))
  ) {
    throw new InvalidArgumentError(`invalid desc ${digest}: media-type: expected index but found manifest (${mediaType})`);
  }
  return doc as T;
}

/**
 * childrenOf reads `desc` when it is a manifest (children: its config, then its layers) or an
 * index (children: its manifests). Layers, configs and unknown types have no children.
 */
export async function childrenOf(provider: Provider, desc: Descriptor): Promise<Descriptor[]> {
  const mt = stripParams(desc.mediaType);
  if (isManifestType(mt)) {
    const m = parseImageDocument<{ config?: Descriptor; layers?: Descriptor[] }>(await readBlob(provider, desc), mt, desc.digest);
    return [...(m.config ? [m.config] : []), ...(m.layers ?? [])];
  }
  if (isIndexType(mt)) {
    const idx = parseImageDocument<{ manifests?: Descriptor[] }>(await readBlob(provider, desc), mt, desc.digest);
    return [...(idx.manifests ?? [])];
  }
  return [];
}

/** childrenHandler is a {@link Handler} returning {@link childrenOf} each descriptor. */
export function childrenHandler(provider: Provider): Handler {
  return (desc) => childrenOf(provider, desc);
}

/**
 * platformFilter wraps `handler` so that only children without a platform, or whose platform
 * `matcher` accepts, are kept. With `all`, every child is kept.
 */
export function platformFilter(handler: Handler, matcher: PlatformMatcher, opts: { all?: boolean } = {}): Handler {
  return async (desc) => {
    const r = await handler(desc);
    if (!Array.isArray(r) || opts.all) return r;
    return r.filter((d) => !d.platform || matcher.match(d.platform));
  };
}

/**
 * limitManifests wraps `handler` so that the children of an index are sorted by `matcher`'s
 * preference (entries without a platform last) and cut to the best `n`. With `n > 0`, an index
 * left with no child is NotFound (`no match for platform in manifest`).
 */
export function limitManifests(handler: Handler, matcher: PlatformMatcher, n: number): Handler {
  return async (desc) => {
    const r = await handler(desc);
    if (r === SKIP || r === STOP || !isIndexType(desc.mediaType)) return r;
    const children = sortByPlatform(listOf(r), matcher);
    if (n > 0) {
      if (children.length === 0) throw new NotFoundError('no match for platform in manifest');
      return children.slice(0, n);
    }
    return children;
  };
}

/** sortByPlatform orders descriptors by `matcher`'s preference, stably; ones without a platform go last. */
export function sortByPlatform(descs: readonly Descriptor[], matcher: PlatformMatcher): Descriptor[] {
  return descs
    .map((d, i) => ({ d, i }))
    .sort((x, y) => {
      const a = x.d.platform;
      const b = y.d.platform;
      if (!a && !b) return x.i - y.i;
      if (!a) return 1;
      if (!b) return -1;
      if (matcher.less(a, b)) return -1;
      if (matcher.less(b, a)) return 1;
      return x.i - y.i;
    })
    .map((x) => x.d);
}

/**
 * childGcLabels names the label prefix a parent uses to reference `desc` for garbage
 * collection: `…content.config` for a config, `…content.m.` for a manifest, `…content.l.` for a
 * layer and `…content.` otherwise (the trailing dot takes the child's position).
 */
export function childGcLabels(desc: Descriptor): string[] {
  const mt = stripParams(desc.mediaType);
  if (isConfigType(mt)) return ['containerd.io/gc.ref.content.config'];
  if (isManifestType(mt)) return ['containerd.io/gc.ref.content.m.'];
  if (isLayerType(mt)) return ['containerd.io/gc.ref.content.l.'];
  return ['containerd.io/gc.ref.content.'];
}

/**
 * childLabelsOf computes the labels a parent gets for `children`: a key ending in `.` gets the
 * running count of its prefix appended, and a repeated key gets its count from the second on.
 */
export function childLabelsOf(children: readonly Descriptor[], labelMap = childGcLabels): Record<string, string> {
  const labels: Record<string, string> = {};
  const seen = new Map<string, number>();
  for (const ch of children) {
    for (const base of labelMap(ch)) {
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      labels[n > 0 || base.endsWith('.') ? `${base}${n}` : base] = ch.digest;
    }
  }
  return labels;
}

/**
 * setChildrenLabels wraps `handler` so that each parent blob gets a GC reference label for
 * every child the handler returned (see {@link childLabelsOf}), set key by key.
 */
export function setChildrenLabels(manager: Pick<Manager, 'update'>, handler: Handler, labelMap = childGcLabels): Handler {
  return async (desc) => {
    const r = await handler(desc);
    const children = listOf(r);
    if (children.length > 0) {
      const labels = childLabelsOf(children, labelMap);
      await manager.update({ digest: desc.digest, labels }, Object.keys(labels).map((k) => `labels.${k}`));
    }
    return r;
  };
}
