import { NotImplementedError } from '@ctrd/errdefs';

/** MediaType lists the layer media types the differ reads and writes (OCI and Docker). */
export const MediaType = {
  /** OCI layer, uncompressed tar. */
  OCILayer: 'application/vnd.oci.image.layer.v1.tar',
  /** OCI layer, tar+gzip. */
  OCILayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** OCI layer, tar+zstd. */
  OCILayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** OCI non-distributable layers (deprecated by OCI, still seen in the wild). */
  OCINonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OCINonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OCINonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** Docker schema 2 layer, tar+gzip. */
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Docker schema 2 layer, uncompressed (rare). */
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  /** Docker foreign (non-distributable) layer, tar+gzip. */
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Compression names how a layer blob is compressed. */
export type Compression = 'uncompressed' | 'gzip' | 'zstd';

const byMediaType = new Map<string, Compression>([
  [MediaType.OCILayer, 'uncompressed'],
  [MediaType.OCILayerGzip, 'gzip'],
  [MediaType.OCILayerZstd, 'zstd'],
  [MediaType.OCINonDistributable, 'uncompressed'],
  [MediaType.OCINonDistributableGzip, 'gzip'],
  [MediaType.OCINonDistributableZstd, 'zstd'],
  [MediaType.DockerLayerGzip, 'gzip'],
  [MediaType.DockerLayer, 'uncompressed'],
  [MediaType.DockerForeignLayerGzip, 'gzip'],
]);

/**
 * compressionOf returns the compression a layer media type declares, or throws NotImplemented
 * (`unsupported diff media type: …`) for anything that is not a known layer type. A `+encrypted`
 * or other suffix is not supported.
 */
export function compressionOf(mediaType: string): Compression {
  const c = byMediaType.get(mediaType);
  if (!c) throw new NotImplementedError(`unsupported diff media type: ${mediaType}`);
  return c;
}

/** isLayerMediaType tells whether `mediaType` is a layer type the differ understands. */
export function isLayerMediaType(mediaType: string): boolean {
  return byMediaType.has(mediaType);
}

/**
 * sniffCompression reads the magic at the start of a blob: gzip (1f 8b), zstd (28 b5 2f fd),
 * anything else is taken as an uncompressed tar. Blobs are decompressed by what they are, as
 * containerd does, whatever their media type claims.
 */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'uncompressed';
}

/** UNCOMPRESSED_LABEL is the content label that records a compressed layer's diffID. */
export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';
