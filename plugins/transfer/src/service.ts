import {
  BlobState as WireBlobState, TransferService, type Progress, type PullRequest, type RegistryOptions as WireRegistry,
} from '@ctrd/api/gen/ctrd/services/transfer/v1/transfer.js';
import { bindService, type BoundService } from '@ctrd/grpc';
import { parsePlatform } from '@ctrd/remotes';
import { Puller } from './puller.js';
import { pushImage } from './push.js';
import type { BlobState, ProgressEvent, PullOptions, RegistryOptions, TransferDeps } from './types.js';

const STATES: Record<BlobState, WireBlobState> = {
  waiting: WireBlobState.WAITING,
  downloading: WireBlobState.DOWNLOADING,
  unpacking: WireBlobState.UNPACKING,
  done: WireBlobState.DONE,
  exists: WireBlobState.EXISTS,
  uploading: WireBlobState.UPLOADING,
};

/** toWire converts a progress event to the wire message. */
export function toWire(ev: ProgressEvent): Progress {
  switch (ev.type) {
    case 'blob':
      return { blob: { digest: ev.digest, mediaType: ev.mediaType, state: STATES[ev.state], offset: ev.offset, total: ev.total } };
    case 'image':
      return { image: { name: ev.name, target: { mediaType: ev.target.mediaType, digest: ev.target.digest, size: ev.target.size, annotations: { ...ev.target.annotations } } } };
    case 'done':
      return { done: { transferred: ev.transferred, total: ev.total, elapsedMs: ev.elapsedMs, chainId: ev.chainId } };
  }
}

function registryIn(r: WireRegistry | undefined): RegistryOptions {
  return { plainHttp: r?.plainHttp ?? false, hostsDir: r?.hostsDir ?? '', username: r?.username ?? '', password: r?.password ?? '' };
}

/**
 * progressStream runs `work` and yields its progress as wire messages while it runs; the
 * stream ends when the work does, or throws its error.
 */
async function* progressStream(work: (emit: (ev: ProgressEvent) => void) => Promise<unknown>): AsyncGenerator<Progress> {
  const queue: Progress[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: { err: unknown } | undefined;
  const emit = (ev: ProgressEvent): void => {
    queue.push(toWire(ev));
    wake?.();
  };
  void work(emit).then(
    () => {
      finished = true;
      wake?.();
    },
    (err: unknown) => {
      failure = { err };
      finished = true;
      wake?.();
    },
  );
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (finished) break;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
  if (failure) throw failure.err;
}

function pullOptions(req: PullRequest, namespace: string, signal: AbortSignal, fetchOnly: boolean): PullOptions {
  return {
    namespace,
    ref: req.ref,
    ...(req.snapshotter ? { snapshotter: req.snapshotter } : {}),
    platforms: req.platforms.map(parsePlatform),
    allPlatforms: req.allPlatforms,
    maxConcurrentDownloads: req.maxConcurrentDownloads,
    registry: registryIn(req.registry),
    unpack: fetchOnly ? false : req.unpack,
    createImage: true,
    labels: { ...req.labels },
    signal,
  };
}

/**
 * transferService binds `ctrd.services.transfer.v1.Transfer`: Pull, Fetch and Push run in the
 * daemon and stream their progress; cancelling the call aborts the transfer (a pull keeps its
 * partial downloads for the next attempt).
 */
export function transferService(deps: TransferDeps): BoundService {
  const puller = new Puller(deps);
  return bindService(TransferService, {
    pull(req, ctx) {
      const o = pullOptions(req, ctx.namespace, ctx.signal, false);
      return progressStream((emit) => puller.pull({ ...o, onProgress: emit }));
    },
    fetch(req, ctx) {
      const o = pullOptions(req, ctx.namespace, ctx.signal, true);
      return progressStream((emit) => puller.pull({ ...o, onProgress: emit }));
    },
    push(req, ctx) {
      const started = Date.now();
      return progressStream(async (emit) => {
        const r = await pushImage(deps, {
          namespace: ctx.namespace,
          name: req.name,
          ...(req.ref ? { ref: req.ref } : {}),
          platforms: req.allPlatforms ? [] : req.platforms.map(parsePlatform),
          registry: registryIn(req.registry),
          maxConcurrentUploads: req.maxConcurrentUploads,
          signal: ctx.signal,
          onProgress: emit,
        });
        emit({ type: 'image', name: r.ref, target: r.target });
        emit({ type: 'done', transferred: r.transferred, total: r.total, elapsedMs: Date.now() - started, chainId: '' });
      });
    },
  });
}
