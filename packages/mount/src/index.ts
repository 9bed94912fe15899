/**
 * `@ctrd/mount` mounts and unmounts filesystems described by {@link Mount} values, the shape
 * snapshotters return, through mount(2)/umount2(2) directly (no `mount` process per call).
 *
 * Cleanup is guaranteed: {@link mountAll} undoes its own partial work on failure, and
 * {@link withTempMount} always unmounts and removes its temporary directory, even when the
 * callback throws.
 *
 * @packageDocumentation
 */
export type { Mount } from './types.js';
export { MountFlags, PROPAGATION_FLAGS, parseMountOptions, compactLowerdir, optionsSize, type ParsedOptions } from './options.js';
export { mount, mountAll, unmount, unmountAll, isNotMounted, type UnmountOptions } from './mount.js';
export { withTempMount, cleanupTempMounts, type TempMountOptions } from './temp-mount.js';
export { readMountInfo, isMountPoint, lookupMount, mountsUnder, type MountInfo } from './mountinfo.js';
export { ioctl, koffi, syscallError, errnoOf, Errno, type SystemErrorCause } from './libc.js';
