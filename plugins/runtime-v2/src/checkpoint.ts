import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeUrls } from '@ctrd/api';
import { CheckpointOptions, Options as RuncOptions } from '@ctrd/api/gen/containerd/runtime/v2/runc/options/oci.js';
import type { Descriptor } from '@ctrd/api/gen/containerd/types/descriptor.js';
import { Any as AnyMessage } from '@ctrd/api/gen/google/protobuf/any.js';
import { readBlob, writeBlob, type ContentStore } from '@ctrd/content';
import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Any, Task } from '@ctrd/runtime';
import { wireAny } from './convert.js';
import { tarDirectory, untarInto } from './tar.js';

/** CHECKPOINT_MEDIA_TYPES are the media types of a checkpoint's blobs in content. */
export const CHECKPOINT_MEDIA_TYPES = Object.freeze({
  criu: 'application/vnd.containerd.container.criu.checkpoint.criu.tar',
  config: 'application/vnd.containerd.container.checkpoint.config.v1+proto',
});

const isRunc = (runtime: string): boolean => runtime.startsWith('io.containerd.runc');

/** checkpointImagePath returns the `image_path` of runc checkpoint options: a checkpoint kept outside content. */
export function checkpointImagePath(runtime: string, options: Any | undefined): string {
  if (options === undefined || !isRunc(runtime)) return '';
  if (options.typeUrl !== TypeUrls.RuncCheckpointOptions) throw new InvalidArgumentError(`invalid task checkpoint option for ${runtime}`);
  return CheckpointOptions.decode(options.value).imagePath;
}

/** restoreImagePath returns the `criu_image_path` of runc create options: a checkpoint to restore from a directory. */
export function restoreImagePath(runtime: string, options: Any | undefined): string {
  if (options === undefined || !isRunc(runtime) || options.typeUrl !== TypeUrls.RuncOptions) return '';
  return RuncOptions.decode(options.value).criuImagePath;
}

async function store(content: ContentStore, mediaType: string, data: Uint8Array): Promise<Descriptor> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeBlob(content, `checkpoint-${digest}`, data, { digest, size: data.length });
  return { mediaType, digest, size: data.length, annotations: {} };
}

/**
 * checkpointToContent checkpoints `task` into a temporary directory, then stores the image as an
 * uncompressed tar and the container's spec (its protobuf Any) in content, returning their
 * descriptors in that order, as containerd does. With an image path in the options the image is
 * left there and nothing is stored.
 */
export async function checkpointToContent(
  task: Task,
  runtime: string,
  spec: Any | undefined,
  options: Any | undefined,
  content: () => ContentStore,
): Promise<Descriptor[]> {
  const imagePath = checkpointImagePath(runtime, options);
  if (imagePath !== '') {
    await task.checkpoint(imagePath, options);
    return [];
  }
  const dir = await mkdtemp(join(process.env['XDG_RUNTIME_DIR'] ?? tmpdir(), 'ctd-checkpoint'));
  try {
    await task.checkpoint(dir, options);
    const cs = content();
    const criu = await store(cs, CHECKPOINT_MEDIA_TYPES.criu, await tarDirectory(dir));
    const specBytes = AnyMessage.encode(wireAny(spec) ?? { typeUrl: '', value: Buffer.alloc(0) }).finish();
    const config = await store(cs, CHECKPOINT_MEDIA_TYPES.config, specBytes);
    return [criu, config];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * restoreFromContent unpacks a checkpoint blob into a new temporary directory for the shim to
 * restore from; the caller removes it once the task has started (the shim restores then) or
 * is deleted.
 */
export async function restoreFromContent(desc: Descriptor, content: ContentStore): Promise<string> {
  if (desc.mediaType !== CHECKPOINT_MEDIA_TYPES.criu) throw new InvalidArgumentError(`unsupported checkpoint type "${desc.mediaType}"`);
  const data = await readBlob(content, { digest: desc.digest, size: desc.size });
  const dir = await mkdtemp(join(process.env['XDG_RUNTIME_DIR'] ?? tmpdir(), 'ctrd-checkpoint'));
  try {
    await untarInto(data, dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}
