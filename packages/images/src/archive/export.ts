import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { readBlob, type Provider } from '@ctrd/content';
import { DataLossError, InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import {
  isIndexType,
  isManifestType,
  stripParams,
  type Descriptor,
  type Index,
  type Manifest,
  type PlatformMatcher,
} from '@ctrd/remotes';
import { childrenOf, parseImageDocument, sortByPlatform } from '../handlers.js';
import { goIndex, goJson } from './go-json.js';
import { IMAGE_NAME_ANNOTATION, familiarizeReference, nameAnnotations } from './names.js';
import { TarSink } from './tar-writer.js';

/** ExportImage is one image to export: its target and, when named, its name. */
export interface ExportImage {
  name?: string;
  target: Descriptor;
}

/** ExportOptions tune {@link exportArchive}, after `ctr images export`'s flags. */
export interface ExportOptions {
  /** the platforms to export from indexes (and pick for `manifest.json`); every entry when absent. */
  platform?: PlatformMatcher;
  /** export every platform's content, still picking `manifest.json` entries by `platform`. */
  allPlatforms?: boolean;
  /** leave out the Docker-compatible `manifest.json`. */
  skipManifestJson?: boolean;
  /** leave out non-distributable (foreign) layers. */
  skipNonDistributable?: boolean;
  /** keeps only the blobs it accepts (after `skipNonDistributable`). */
  blobFilter?: (desc: Descriptor) => boolean;
}

const isNonDistributable = (mt: string): boolean =>
  stripParams(mt).includes('.nondistributable.') || stripParams(mt).includes('.foreign.');

interface DockerEntry {
  manifest: Descriptor;
  names: string[];
}

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  if (!alg || !hex) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(digest)}`);
  return `blobs/${alg}/${hex}`;
}

/**
 * exportArchive writes `images` to `out` as an OCI image layout tar (`oci-layout`,
 * `index.json` listing the targets with their name annotations, `blobs/sha256/…`) plus a
 * Docker `manifest.json` naming one manifest per image so `docker load` reads it. From an
 * index only the entries `platform` accepts are exported (all with `allPlatforms`); the index
 * blob itself is kept whole. Every blob's digest is checked as it is copied (DataLoss).
 */
export async function exportArchive(
  provider: Provider,
  out: Writable,
  images: readonly ExportImage[],
  opts: ExportOptions = {},
): Promise<void> {
  const targets = images.map((i) => (i.name ? { ...i.target, annotations: nameAnnotations(i.name, i.target.annotations) } : i.target));
  const filter = (d: Descriptor): boolean =>
    !(opts.skipNonDistributable && isNonDistributable(d.mediaType)) && (opts.blobFilter?.(d) ?? true);
  const blobs = new Map<string, Descriptor>();
  const addTree = async (root: Descriptor): Promise<void> => {
    const queue = [root];
    for (let d = queue.shift(); d; d = queue.shift()) {
      if (filter(d)) blobs.set(blobPath(d.digest), d);
      queue.push(...(await childrenOf(provider, d)));
    }
  };
  const docker = new Map<string, DockerEntry>();
  const resolved = new Map<string, string>();

  for (const desc of targets) {
    const mt = stripParams(desc.mediaType);
    const name = desc.annotations?.[IMAGE_NAME_ANNOTATION] ?? '';
    if (isManifestType(mt)) {
      let e = docker.get(desc.digest);
      if (!e) {
        await addTree(desc);
        docker.set(desc.digest, (e = { manifest: desc, names: [] }));
      }
      if (name) e.names.push(name);
    } else if (isIndexType(mt)) {
      let best = resolved.get(desc.digest);
      if (best === undefined) {
        if (filter(desc)) blobs.set(blobPath(desc.digest), desc);
        const idx = parseImageDocument<Index>(await readBlob(provider, desc), mt, desc.digest);
        const candidates: Descriptor[] = [];
        for (const m of idx.manifests ?? []) {
          if (opts.platform) {
            if (!m.platform || opts.platform.match(m.platform)) candidates.push(m);
            else if (!opts.allPlatforms) continue;
          }
          await addTree(m);
        }
        best = '';
        if (!opts.skipManifestJson) {
          const pick = opts.platform ? sortByPlatform(candidates, opts.platform)[0] : undefined;
          if (pick && isManifestType(pick.mediaType)) {
            best = pick.digest;
            if (!docker.has(best)) docker.set(best, { manifest: pick, names: [] });
          } else if (opts.platform && candidates.length === 0) {
            throw new NotFoundError('no manifest found for platform');
          }
        }
        resolved.set(desc.digest, best);
      }
      if (best && name) docker.get(best)!.names.push(name);
    } else {
      throw new InvalidArgumentError('only manifests may be exported');
    }
  }

  const manifestJson = opts.skipManifestJson || docker.size === 0 ? undefined : await dockerManifest(provider, docker);
  const sink = new TarSink(out);
  const paths = [...blobs.keys()].sort();
  if (paths.length > 0) {
    await sink.entry({ name: 'blobs/', type: 'directory', mode: 0o755 });
    await sink.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755 });
  }
  for (const p of paths) await copyBlob(provider, sink, p, blobs.get(p)!);
  await sink.entry({ name: 'index.json', type: 'file', mode: 0o644 }, goIndex(targets));
  if (manifestJson) await sink.entry({ name: 'manifest.json', type: 'file', mode: 0o644 }, manifestJson);
  await sink.entry({ name: 'oci-layout', type: 'file', mode: 0o444 }, Buffer.from(goJson({ imageLayoutVersion: '1.0.0' })));
  await sink.end();
}

async function copyBlob(provider: Provider, sink: TarSink, path: string, desc: Descriptor): Promise<void> {
  const ra = await provider.readerAt(desc);
  try {
    const hash = createHash('sha256');
    async function* hashed(): AsyncIterable<Uint8Array> {
      for await (const chunk of ra.stream()) {
        hash.update(chunk);
        yield chunk;
      }
    }
    await sink.entry({ name: path, type: 'file', mode: 0o444, size: ra.size }, hashed());
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== desc.digest) throw new DataLossError(`unexpected digest ${got} copied for ${desc.digest}`);
  } finally {
    await ra.close();
  }
}

async function dockerManifest(provider: Provider, entries: ReadonlyMap<string, DockerEntry>): Promise<Buffer> {
  const list: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] | null }> = [];
  for (const e of entries.values()) {
    const m = parseImageDocument<Manifest>(await readBlob(provider, e.manifest), e.manifest.mediaType, e.manifest.digest);
    const layers = (m.layers ?? []).map((l) => blobPath(l.digest));
    const tags = e.names.map(familiarizeReference);
    list.push({ Config: blobPath(m.config.digest), RepoTags: tags.length ? tags : null, Layers: layers.length ? layers : null });
  }
  return Buffer.from(goJson(list));
}
