/**
 * `@ctrd/diff` is the differ contract: {@link Applier} unpacks a layer onto mounts, {@link
 * Comparer} writes the difference of two mounts as a layer, and {@link Differ} is both, the
 * `io.containerd.differ.v1` plugin type. The walking implementation lives in
 * `@ctrd/differ-walking`, which also exports `applyLayerStream`, the content-store-free core.
 *
 * Layer rules every implementation follows (facts from the OCI image spec; the choices marked
 * *ctrd* go beyond containerd):
 * - A layer is a tar (optionally gzip or zstd). The blob digest is verified and the diffID
 *   (sha256 of the tar) computed in the same single pass.
 * - Entry names are cleaned (`./`, `//`, `a/../b`). *ctrd*: an absolute name, or one whose `..`
 *   climbs above the root, is refused with InvalidArgument (containerd silently clamps them).
 * - Parent directories are resolved component by component without ever leaving the target:
 *   a symlink on the way is followed as if the target were `/` (absolute targets restart at the
 *   target root); *ctrd*: a relative symlink climbing above the root, or more than 40 links, is
 *   InvalidArgument. The final component is never followed: an existing entry is replaced, a
 *   directory over a directory is merged.
 * - Hardlink targets are resolved the same way and must exist inside the target.
 * - Whiteouts `.wh.<name>` delete `<name>` from lower layers and `.wh..wh..opq` makes its
 *   directory opaque; entries of the same layer are never hidden by them. On overlayfs they
 *   are written as a 0/0 character device and the `trusted.overlay.opaque=y` xattr.
 * - *ctrd*: `trusted.overlay.*` xattrs inside a layer are dropped, so a layer cannot forge
 *   overlayfs metadata.
 *
 * @packageDocumentation
 */
export * from './types.js';
export * from './media-types.js';
