import type { ContentStore } from '@ctrd/content';
import type { ImageStore, LeaseManager } from '@ctrd/metadata';
import type { Descriptor, Platform, Resolver } from '@ctrd/remotes';
import type { Snapshotter } from '@ctrd/snapshots';

/** BlobState is where one blob is in a transfer (the wire enum's names, lower case). */
export type BlobState = 'waiting' | 'downloading' | 'unpacking' | 'done' | 'exists' | 'uploading';

/** ProgressEvent is one progress report of a pull, fetch or push. */
export type ProgressEvent =
  | { type: 'blob'; digest: string; mediaType: string; state: BlobState; offset: number; total: number }
  | { type: 'image'; name: string; target: Descriptor }
  | { type: 'done'; transferred: number; total: number; elapsedMs: number; chainId: string };

/** RegistryOptions say how to reach a registry. */
export interface RegistryOptions {
  plainHttp?: boolean;
  hostsDir?: string;
  username?: string;
  password?: string;
}

/** ClosableResolver is a resolver that owns connections to release after a transfer. */
export type ClosableResolver = Resolver & { close?(): Promise<void> };

/**
 * TransferHooks observe the steps of a transfer, for tests and metrics: `applyStart` fires when
 * a layer's apply begins (`streaming` when it reads the download as it arrives), `downloadEnd`
 * when a blob's download has been fully written.
 */
export interface TransferHooks {
  applyStart?(digest: string, streaming: boolean): void;
  downloadEnd?(digest: string): void;
}

/** TransferDeps are the services a {@link Puller} or push works with, scoped per namespace and lease. */
export interface TransferDeps {
  /** content returns namespace `ns`'s content store, holding what it writes in `lease`. */
  content(ns: string, lease?: string): ContentStore;
  images: ImageStore;
  leases: LeaseManager;
  /** snapshotter returns snapshotter `name` as namespace `ns` sees it, under `lease`. */
  snapshotter(name: string, ns: string, lease?: string): Snapshotter;
  /** the snapshotter used when a pull names none. */
  defaultSnapshotter: string;
  /** resolver makes a registry client for one transfer; it is closed afterwards. */
  resolver(opts: RegistryOptions): ClosableResolver;
  /** where temporary mounts for applying layers are made (the system temp dir by default). */
  mountDir?: string;
  hooks?: TransferHooks;
}

/** PullOptions describe one pull or fetch. */
export interface PullOptions {
  namespace: string;
  /** a normalised reference (`docker.io/library/busybox:latest`). */
  ref: string;
  /** the snapshotter to unpack into; the default one when absent. */
  snapshotter?: string;
  /** platforms to pull; the host's when empty. */
  platforms?: Platform[];
  allPlatforms?: boolean;
  /** layers downloaded at once (3 by default). */
  maxConcurrentDownloads?: number;
  registry?: RegistryOptions;
  /** unpack the selected platforms (true by default for a pull). */
  unpack?: boolean;
  /** create or update the image record (true by default; false leaves the content to the lease alone). */
  createImage?: boolean;
  /** labels of the image record. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?(ev: ProgressEvent): void;
}

/** PullResult reports a finished pull. */
export interface PullResult {
  name: string;
  target: Descriptor;
  /** the top chain ID of each unpacked platform, in selection order. */
  chainIds: string[];
  /** bytes downloaded by this pull. */
  transferred: number;
  /** total size of the blobs the pull covered. */
  total: number;
}
