/**
 * `@ctrd/images` works on images held in a content store: walking their graph of index,
 * manifests, config and layers; resolving one platform's config, diffIDs and chain IDs;
 * unpacking layers into a snapshotter; importing and exporting image archives.
 *
 * Terms:
 * - a **target** is an image's root descriptor: a manifest, or an index of manifests.
 * - a **diffID** is the sha256 of a layer's uncompressed tar, listed in the config's
 *   `rootfs.diff_ids`; the **chain ID** of layers 0..n identifies the filesystem they make
 *   together (`chainIds`) and names the committed snapshot an unpack creates.
 * - a **handler** visits one descriptor and returns the children to visit; `walk` and
 *   `dispatch` drive handlers, and wrappers filter by platform or set GC labels.
 *
 * Labels written, as containerd writes them: on an index `containerd.io/gc.ref.content.m.<i>`,
 * on a manifest `…content.config` and `…content.l.<i>` (import, pull); on a layer blob
 * `containerd.io/uncompressed=<diffID>` and on the config
 * `containerd.io/gc.ref.snapshot.<snapshotter>=<top chain ID>` (unpack); on each unpacked
 * snapshot `containerd.io/snapshot.ref=<chain ID>`.
 *
 * Test images are built by `@ctrd/images/fixtures`.
 *
 * @packageDocumentation
 */
export {
  SKIP,
  STOP,
  childGcLabels,
  childLabelsOf,
  childrenHandler,
  childrenOf,
  dispatch,
  handlers,
  limitManifests,
  parseImageDocument,
  platformFilter,
  setChildrenLabels,
  sortByPlatform,
  walk,
  walkNotEmpty,
  type DispatchOptions,
  type Handler,
  type HandlerResult,
} from './handlers.js';
export { chainId, chainIds } from './chain-id.js';
export {
  check,
  configPlatform,
  imageChainIds,
  imageConfig,
  imagePlatforms,
  isUnpacked,
  packedSize,
  resolveManifest,
  rootFS,
  unpackedSize,
  type CheckResult,
  type ResolvedImage,
} from './image.js';
export {
  GC_SNAPSHOT_LABEL_PREFIX,
  SNAPSHOT_REF_LABEL,
  UNCOMPRESSED_LABEL,
  unpackImage,
  unpackKey,
  type UnpackOptions,
  type UnpackResult,
  type UnpackedLayer,
} from './unpack.js';
export { importIndex, writeJsonBlob, type ImportIndexOptions, type ImportStore } from './archive/import-index.js';
export {
  ctrImportOptions,
  importImages,
  saveImages,
  type CtrImportFlags,
  type ImportOptions,
  type ImportResult,
} from './archive/import-images.js';
export { exportArchive, type ExportImage, type ExportOptions } from './archive/export.js';
export {
  IMAGE_NAME_ANNOTATION,
  REF_NAME_ANNOTATION,
  addRefPrefix,
  digestTranslator,
  familiarizeReference,
  filterRefPrefix,
  imageNameOf,
  nameAnnotations,
  normalizeReference,
  ociReferenceName,
} from './archive/names.js';
export { goDescriptor, goIndex, goJson } from './archive/go-json.js';
export { TAR_END, TarSink, encodeTarHeader, tarEntry, tarPadding, type TarHeader } from './archive/tar-writer.js';
