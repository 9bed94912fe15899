import {
  BlobState, TransferClient, type Progress, type PullRequest, type PushRequest, type RegistryOptions,
} from '@ctrd/api/gen/ctrd/services/transfer/v1/transfer.js';
import type { CallOptions, Connection } from './connection.js';

export { BlobState, type Progress, type RegistryOptions };

/** TransferPullOptions are a pull's or fetch's options; `ref` must already be normalised. */
export interface TransferPullOptions {
  ref: string;
  snapshotter?: string;
  platforms?: string[];
  allPlatforms?: boolean;
  maxConcurrentDownloads?: number;
  registry?: Partial<RegistryOptions>;
  /** unpack into the snapshotter (true by default; ignored by fetch). */
  unpack?: boolean;
  labels?: Record<string, string>;
}

/** TransferPushOptions are a push's options. */
export interface TransferPushOptions {
  name: string;
  /** the destination; the image name when absent. */
  ref?: string;
  platforms?: string[];
  allPlatforms?: boolean;
  maxConcurrentUploads?: number;
  registry?: Partial<RegistryOptions>;
}

function registryOut(r: Partial<RegistryOptions> | undefined): RegistryOptions {
  return { plainHttp: r?.plainHttp ?? false, hostsDir: r?.hostsDir ?? '', username: r?.username ?? '', password: r?.password ?? '' };
}

function pullRequest(o: TransferPullOptions): PullRequest {
  return {
    ref: o.ref,
    snapshotter: o.snapshotter ?? '',
    platforms: [...(o.platforms ?? [])],
    allPlatforms: o.allPlatforms ?? false,
    maxConcurrentDownloads: o.maxConcurrentDownloads ?? 0,
    registry: registryOut(o.registry),
    unpack: o.unpack ?? true,
    labels: { ...o.labels },
  };
}

/**
 * RemoteTransfer drives ctrd's own `ctrd.services.transfer.v1.Transfer` service: pulls, fetches
 * and pushes run in the daemon, and each call yields its progress messages until the last
 * (`done`). Cancelling (the signal) aborts the transfer in the daemon.
 */
export class RemoteTransfer {
  readonly #conn: Connection;
  readonly #client: TransferClient;

  constructor(conn: Connection) {
    this.#conn = conn;
    this.#client = conn.client(TransferClient);
  }

  /** pull pulls and (by default) unpacks an image, yielding progress. */
  pull(o: TransferPullOptions, opts: CallOptions = {}): AsyncGenerator<Progress> {
    const call = this.#client.pull(pullRequest(o), this.#conn.metadata(opts), this.#conn.callOptions(opts));
    return this.#conn.stream<Progress>(call, opts.signal);
  }

  /** fetch downloads an image's content and records the image, without unpacking; yields progress. */
  fetch(o: TransferPullOptions, opts: CallOptions = {}): AsyncGenerator<Progress> {
    const call = this.#client.fetch(pullRequest(o), this.#conn.metadata(opts), this.#conn.callOptions(opts));
    return this.#conn.stream<Progress>(call, opts.signal);
  }

  /** push uploads a local image, yielding progress. */
  push(o: TransferPushOptions, opts: CallOptions = {}): AsyncGenerator<Progress> {
    const req: PushRequest = {
      name: o.name,
      ref: o.ref ?? '',
      platforms: [...(o.platforms ?? [])],
      allPlatforms: o.allPlatforms ?? false,
      registry: registryOut(o.registry),
      maxConcurrentUploads: o.maxConcurrentUploads ?? 0,
    };
    const call = this.#client.push(req, this.#conn.metadata(opts), this.#conn.callOptions(opts));
    return this.#conn.stream<Progress>(call, opts.signal);
  }
}
