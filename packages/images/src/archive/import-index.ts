import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { digestFromBytes, openWriter, writeBlob, type ContentStore } from '@ctrd/content';
import { InvalidArgumentError, NotFoundError, isAlreadyExists } from '@ctrd/errdefs';
import { MediaTypes, type Descriptor } from '@ctrd/remotes';
import tar from 'tar-stream';
import { imagePlatforms } from '../image.js';
import { goDescriptor, goIndex, goJson } from './go-json.js';
import { nameAnnotations, normalizeReference } from './names.js';

/** ImportStore is the part of a content store an import uses. */
export type ImportStore = Pick<ContentStore, 'writer' | 'readerAt' | 'update' | 'walk' | 'info' | 'abort'>;

/** ImportIndexOptions tune {@link importIndex}. */
export interface ImportIndexOptions {
  /** gzip the uncompressed layers of a Docker archive (ctr's `--compress-blobs`). */
  compress?: boolean;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers?: string[] | null;
}

const JSON_LIMIT = 20 * 1024 * 1024;
const OCI_LAYOUT_VERSION = '1.0.0';

async function readAll(entry: AsyncIterable<Uint8Array>, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of entry) {
    n += c.length;
    if (n > JSON_LIMIT) throw new InvalidArgumentError(`${name} is larger than ${JSON_LIMIT} bytes`);
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts);
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`untar ${what}: ${(err as Error).message}`, { cause: err });
  }
}

async function ingest(store: ImportStore, ref: string, data: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
  const w = await openWriter(store, { ref });
  try {
    if ((await w.status()).offset > 0) await w.truncate(0);
    let size = 0;
    for await (const c of data) {
      size += c.length;
      await w.write(c);
    }
    const digest = w.digest();
    try {
      await w.commit(size, digest);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return { digest, size };
  } finally {
    await w.close();
  }
}

/** writeJsonBlob stores `bytes` as a blob of `mediaType` and returns its descriptor. */
export async function writeJsonBlob(store: Pick<ContentStore, 'writer'>, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const desc: Descriptor = { mediaType, digest: digestFromBytes(bytes), size: bytes.length };
  await writeBlob(store, `manifest-${desc.digest}`, bytes, desc);
  return desc;
}

/**
 * importIndex reads an image archive (OCI image layout, or Docker `save` format v1.1/v1.2),
 * storing every regular file as a blob, and returns the descriptor of its index. An OCI layout
 * gives its own `index.json`; for a Docker archive an OCI index is written with one Docker
 * manifest per `manifest.json` entry, named per repo tag (`io.containerd.image.name` with the
 * normalised name, `org.opencontainers.image.ref.name` with its tag). InvalidArgument for an
 * unrecognised archive, NotFound for a config or layer the archive lacks.
 */
export async function importIndex(
  store: ImportStore,
  source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ImportIndexOptions = {},
): Promise<Descriptor> {
  const extract = tar.extract();
  const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);

  let layout: { imageLayoutVersion?: string } | undefined;
  let manifests: DockerManifestEntry[] | undefined;
  const symlinks = new Map<string, string>();
  const blobs = new Map<string, { digest: string; size: number }>();

  for await (const entry of extract) {
    const h = entry.header;
    const data = entry as unknown as AsyncIterable<Uint8Array>;
    const name = posix.normalize(h.name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (h.type === 'symlink') symlinks.set(name, posix.join(posix.dirname(name), h.linkname ?? ''));
    if (h.type !== 'file' && h.type !== 'contiguous-file') {
      entry.resume();
      continue;
    }
    if (name === 'oci-layout') layout = parseJson(await readAll(data, name), `oci layout "${h.name}"`);
    else if (name === 'manifest.json') manifests = parseJson(await readAll(data, name), `manifest "${h.name}"`);
    else blobs.set(name, await ingest(store, `tar-${name}`, data));
  }

  if (layout?.imageLayoutVersion) {
    if (layout.imageLayoutVersion !== OCI_LAYOUT_VERSION) {
      throw new InvalidArgumentError(`unsupported OCI version ${layout.imageLayoutVersion}`);
    }
    const idx = blobs.get('index.json');
    if (!idx) throw new InvalidArgumentError(`missing index.json in OCI layout ${OCI_LAYOUT_VERSION}`);
    return { mediaType: MediaTypes.ociIndex, ...idx };
  }
  if (!Array.isArray(manifests)) throw new InvalidArgumentError('unrecognized image format');

  for (const [name, target] of symlinks) {
    const desc = blobs.get(target);
    if (!desc) throw new NotFoundError(`no target for symlink layer from "${name}" to "${target}"`);
    blobs.set(name, desc);
  }

  const entries: Descriptor[] = [];
  for (const m of manifests) {
    const config = blobs.get(m.Config);
    if (!config) throw new NotFoundError(`image config "${m.Config}" not found`);
    const layers = await resolveLayers(store, m.Layers ?? [], blobs, opts.compress ?? false);
    const body = {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: goDescriptor({ mediaType: MediaTypes.dockerConfig, ...config }),
      layers: layers.map(goDescriptor),
    };
    const desc = await writeJsonBlob(store, Buffer.from(goJson(body)), MediaTypes.dockerManifest);
    const platform = (await imagePlatforms(store, desc))[0];
    if (platform) desc.platform = platform;
    const tags = m.RepoTags ?? [];
    if (tags.length === 0) entries.push(desc);
    for (const tag of tags) entries.push({ ...desc, annotations: nameAnnotations(normalizeReference(tag)) });
  }
  return writeJsonBlob(store, goIndex(entries), MediaTypes.ociIndex);
}

async function detectMediaType(store: ImportStore, desc: Descriptor): Promise<string> {
  const ra = await store.readerAt(desc);
  try {
    const head = new Uint8Array(Math.min(10, ra.size));
    await ra.readAt(head, 0);
    if (head[0] === 0x1f && head[1] === 0x8b) return MediaTypes.dockerLayerGzip;
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return MediaTypes.dockerLayerZstd;
    return MediaTypes.dockerLayer;
  } finally {
    await ra.close();
  }
}

async function compressLayer(store: ImportStore, desc: Descriptor): Promise<Descriptor> {
  const ra = await store.readerAt(desc);
  try {
    const gz = Readable.from(ra.stream()).pipe(createGzip());
    const hex = desc.digest.slice('sha256:'.length);
    const out = await ingest(store, `compress-blob-sha256-${hex}`, gz);
    await store.update({ digest: out.digest, labels: { 'containerd.io/uncompressed': desc.digest } }, [
      'labels.containerd.io/uncompressed',
    ]);
    return { mediaType: MediaTypes.dockerLayerGzip, ...out };
  } finally {
    await ra.close();
  }
}

async function resolveLayers(
  store: ImportStore,
  files: readonly string[],
  blobs: ReadonlyMap<string, { digest: string; size: number }>,
  compress: boolean,
): Promise<Descriptor[]> {
  const layers: Descriptor[] = files.map((f) => {
    const b = blobs.get(f);
    if (!b) throw new NotFoundError(`layer "${f}" not found`);
    return { mediaType: '', ...b };
  });
  // A compressed copy of a layer may be stored already (a pull, an earlier compressed import).
  const byDiff = new Map(layers.map((l) => [l.digest, l] as const));
  const filters = layers.map((l) => `labels."containerd.io/uncompressed"==${l.digest}`);
  const found = new Map<string, { digest: string; size: number }>();
  await store.walk((info) => {
    const diff = info.labels['containerd.io/uncompressed'];
    if (diff && byDiff.has(diff)) found.set(diff, { digest: info.digest, size: info.size });
  }, filters);
  const out: Descriptor[] = [];
  for (const l of layers) {
    const c = found.get(l.digest);
    if (c) {
      out.push({ mediaType: await detectMediaType(store, { mediaType: '', ...c }), ...c });
      continue;
    }
    const mt = await detectMediaType(store, l);
    if (mt === MediaTypes.dockerLayer && compress) out.push(await compressLayer(store, l));
    else out.push({ ...l, mediaType: mt });
  }
  return out;
}
