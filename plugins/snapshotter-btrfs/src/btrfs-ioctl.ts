import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { ioctl } from '@ctrd/mount';

// ioctl numbers from linux/btrfs.h: _IOW/_IOWR(0x94, nr, <4096-byte argument struct>).
const IOC_SUBVOL_CREATE = 0x5000940e;
const IOC_SNAP_DESTROY = 0x5000940f;
const IOC_INO_LOOKUP = 0xd0009412;
const IOC_SNAP_CREATE_V2 = 0x50009417;
const SUBVOL_RDONLY = 1n << 1n;
const FIRST_FREE_OBJECTID = 256n;
const ARGS_SIZE = 4096;
const VOL_NAME_OFFSET = 8; // struct btrfs_ioctl_vol_args { __s64 fd; char name[4088]; }
const V2_NAME_OFFSET = 56; // struct btrfs_ioctl_vol_args_v2 { fd, transid, flags, unused[4], name[4040] }

async function withDir<T>(path: string, fn: (fd: number) => T): Promise<T> {
  const fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return fn(fh.fd);
  } finally {
    await fh.close();
  }
}

function putName(buf: Buffer, offset: number, name: string): void {
  const bytes = Buffer.from(name);
  if (bytes.length >= ARGS_SIZE - offset) throw new InvalidArgumentError(`btrfs: subvolume name too long: ${name}`);
  bytes.copy(buf, offset);
}

/** subvolCreate makes an empty subvolume at `path` (its parent directory must exist). */
export async function subvolCreate(path: string): Promise<void> {
  const args = Buffer.alloc(ARGS_SIZE);
  putName(args, VOL_NAME_OFFSET, basename(path));
  await withDir(dirname(path), (fd) => ioctl(fd, IOC_SUBVOL_CREATE, args, `btrfs: create subvolume ${path}`));
}

/** subvolSnapshot makes `dst` a snapshot of the subvolume `src`, read-only when asked. */
export async function subvolSnapshot(dst: string, src: string, readonly: boolean): Promise<void> {
  const srcFh = await open(src, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const args = Buffer.alloc(ARGS_SIZE);
    args.writeBigInt64LE(BigInt(srcFh.fd), 0);
    if (readonly) args.writeBigUInt64LE(SUBVOL_RDONLY, 16);
    putName(args, V2_NAME_OFFSET, basename(dst));
    await withDir(dirname(dst), (fd) => ioctl(fd, IOC_SNAP_CREATE_V2, args, `btrfs: snapshot ${src} to ${dst}`));
  } finally {
    await srcFh.close();
  }
}

/** subvolDelete deletes the subvolume at `path`, read-only ones included. */
export async function subvolDelete(path: string): Promise<void> {
  const args = Buffer.alloc(ARGS_SIZE);
  putName(args, VOL_NAME_OFFSET, basename(path));
  await withDir(dirname(path), (fd) => ioctl(fd, IOC_SNAP_DESTROY, args, `btrfs: delete subvolume ${path}`));
}

/** subvolId returns the ID of the subvolume whose root is `path` (for `subvolid=` mounts). */
export async function subvolId(path: string): Promise<bigint> {
  const args = Buffer.alloc(ARGS_SIZE);
  args.writeBigUInt64LE(0n, 0);
  args.writeBigUInt64LE(FIRST_FREE_OBJECTID, 8);
  await withDir(path, (fd) => ioctl(fd, IOC_INO_LOOKUP, args, `btrfs: look up subvolume of ${path}`));
  return args.readBigUInt64LE(0);
}
