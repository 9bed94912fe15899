/** MediaTypes lists the OCI and Docker media types ctrd reads and writes. */
export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
} as const;

/** MANIFEST_MEDIA_TYPES are the single-platform manifest types. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.dockerManifest];
/** INDEX_MEDIA_TYPES are the multi-platform index types. */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];

/**
 * MANIFEST_ACCEPT is the `Accept` list a resolver sends for a manifest: the four manifest and index
 * types, then anything (some registries answer schema 1 only to `*` wildcards).
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
  '*/*',
];

/** isManifestType reports whether `mt` is a single-platform manifest type. */
export function isManifestType(mt: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(stripParams(mt));
}

/** isIndexType reports whether `mt` is an index or manifest list type. */
export function isIndexType(mt: string): boolean {
  return INDEX_MEDIA_TYPES.includes(stripParams(mt));
}

/** isManifestOrIndexType reports whether `mt` is fetched from the registry's `manifests/` endpoint. */
export function isManifestOrIndexType(mt: string): boolean {
  return isManifestType(mt) || isIndexType(mt) || stripParams(mt) === MediaTypes.dockerSchema1Manifest;
}

/** isConfigType reports whether `mt` is an image config type. */
export function isConfigType(mt: string): boolean {
  const s = stripParams(mt);
  return s === MediaTypes.ociConfig || s === MediaTypes.dockerConfig;
}

/**
 * isLayerType reports whether `mt` is a layer type, OCI or Docker, any compression, including
 * non-distributable and foreign layers.
 */
export function isLayerType(mt: string): boolean {
  const s = stripParams(mt);
  return s.startsWith('application/vnd.oci.image.layer.') || s.startsWith('application/vnd.docker.image.rootfs.');
}

/** layerCompression returns the compression a layer media type names: `gzip`, `zstd` or `none`. */
export function layerCompression(mt: string): 'gzip' | 'zstd' | 'none' {
  const s = stripParams(mt);
  if (s.endsWith('+gzip') || s.endsWith('.gzip')) return 'gzip';
  if (s.endsWith('+zstd') || s.endsWith('.zstd')) return 'zstd';
  return 'none';
}

/** stripParams drops `; charset=…` and similar parameters from a media type and trims it. */
export function stripParams(mt: string): string {
  const i = mt.indexOf(';');
  return (i < 0 ? mt : mt.slice(0, i)).trim();
}
