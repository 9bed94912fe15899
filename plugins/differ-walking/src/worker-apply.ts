import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LayerApplyResult } from '@ctrd/diff';
import { applyLayerStream, type ApplyStreamOptions } from './apply-stream.js';
import { CanceledError, newError } from '@ctrd/errdefs';
import type { ApplyWorkerOptions, ToMain, ToWorker } from './apply-protocol.js';

/** APPLY_WINDOW is how many bytes may be posted to a worker and not yet consumed by its apply. */
export const APPLY_WINDOW = 8 << 20;
/** APPLY_BATCH is the size small chunks are gathered to before being posted. */
const APPLY_BATCH = 512 << 10;
/** An idle worker is ended after this long, so an idle daemon holds no second heap. */
const IDLE_MS = 60_000;

/** WorkerApplyOptions are {@link ApplyStreamOptions} and how the stream's chunks may be moved. */
export interface WorkerApplyOptions extends ApplyStreamOptions {
  /**
   * the stream hands its chunks over: nothing uses a chunk once it has been yielded (a download
   * done writing it to the store, a content reader's fresh buffers). A chunk of at least
   * APPLY_BATCH bytes that spans its whole ArrayBuffer is then moved to the worker rather than
   * copied, and its buffer is left detached (zero length) on this thread.
   */
  chunksOwned?: boolean;
}

/** movable says whether `chunk` can be transferred as it is: its own ArrayBuffer, whole. */
function movable(chunk: Uint8Array): boolean {
  return chunk.byteLength >= APPLY_BATCH && chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer && chunk.byteLength === chunk.buffer.byteLength;
}

/**
 * workerUrl finds the worker's module: beside this one when running tsc's output, else through
 * the package's exports (a bundled daemon still has the workspace's node_modules). Undefined
 * when neither exists: the apply then runs on the calling thread.
 */
function workerUrl(): URL | undefined {
  const sibling = new URL('./apply-worker.js', import.meta.url);
  if (sibling.protocol === 'file:' && existsSync(fileURLToPath(sibling))) return sibling;
  try {
    const viaPackage = new URL(import.meta.resolve('@ctrd/differ-walking/apply-worker'));
    if (viaPackage.protocol === 'file:' && existsSync(fileURLToPath(viaPackage))) return viaPackage;
  } catch {
    // not resolvable from here
  }
  return undefined;
}

const WORKER_URL = workerUrl();
const HAVE_WORKER = WORKER_URL !== undefined;

interface Slot {
  worker: Worker;
  idleTimer: NodeJS.Timeout | undefined;
  /** set when the worker died or was ended: never handed out again. */
  dead: boolean;
  onMessage: ((msg: ToMain) => void) | undefined;
  onDeath: ((err: Error) => void) | undefined;
}

const idle: Slot[] = [];
let nextId = 1;

function spawnSlot(): Slot {
  const worker = new Worker(WORKER_URL!);
  const slot: Slot = { worker, idleTimer: undefined, dead: false, onMessage: undefined, onDeath: undefined };
  worker.on('message', (msg: ToMain) => slot.onMessage?.(msg));
  const die = (err: Error): void => {
    if (slot.dead) return;
    slot.dead = true;
    const i = idle.indexOf(slot);
    if (i >= 0) idle.splice(i, 1);
    slot.onDeath?.(err);
  };
  worker.on('error', die);
  worker.on('exit', (code) => die(new Error(`layer apply worker exited with code ${code}`)));
  return slot;
}

function acquire(): Slot {
  const slot = idle.pop() ?? spawnSlot();
  clearTimeout(slot.idleTimer);
  slot.worker.ref();
  return slot;
}

function release(slot: Slot): void {
  slot.onMessage = undefined;
  slot.onDeath = undefined;
  if (slot.dead) return;
  slot.worker.unref();
  slot.idleTimer = setTimeout(() => {
    slot.dead = true;
    const i = idle.indexOf(slot);
    if (i >= 0) idle.splice(i, 1);
    void slot.worker.terminate();
  }, IDLE_MS);
  slot.idleTimer.unref();
  idle.push(slot);
}

/**
 * prewarmApplyWorker starts a worker ahead of the first apply when none is idle, so that its
 * start-up (loading the differ) overlaps the resolve and the manifest fetches of a pull.
 */
export function prewarmApplyWorker(): void {
  if (!HAVE_WORKER || idle.length > 0) return;
  release(spawnSlot());
}

/**
 * applyInWorker runs {@link applyLayerStream} on a worker thread: the
 * chunks of `stream` are copied to the worker (at most {@link APPLY_WINDOW} bytes ahead of the
 * apply), and the result or error comes back with its errdefs class. The daemon's event loop
 * stays free for downloads and commits while a layer is written. Workers are reused, and end
 * after a while idle. Without the worker's module beside this one (a bundle), it applies on
 * the calling thread.
 */
export async function applyInWorker(stream: AsyncIterable<Uint8Array>, target: string, opts: WorkerApplyOptions): Promise<LayerApplyResult> {
  if (!HAVE_WORKER) return applyLayerStream(stream, target, opts);
  const { signal } = opts;
  if (signal?.aborted) throw new CanceledError('layer apply canceled');
  const slot = acquire();
  const id = nextId++;
  const post = (msg: ToWorker, transfer?: ArrayBuffer[]): void => slot.worker.postMessage(msg, transfer);
  let inflight = 0;
  let wakePump: (() => void) | undefined;
  let settled = false;
  const outcome = new Promise<LayerApplyResult>((resolve, reject) => {
    slot.onMessage = (msg) => {
      if (msg.id !== id) return;
      if (msg.type === 'ack') {
        inflight -= msg.bytes;
        if (inflight <= APPLY_WINDOW) wakePump?.();
        return;
      }
      settled = true;
      wakePump?.();
      if (msg.type === 'result') resolve(msg.result);
      else reject(msg.plain ? new Error(msg.message) : newError(msg.code, msg.message));
    };
    slot.onDeath = (err) => {
      settled = true;
      wakePump?.();
      reject(err);
    };
  });
  outcome.catch(() => undefined);
  const onAbort = (): void => post({ type: 'abort', id });
  signal?.addEventListener('abort', onAbort, { once: true });
  const wopts: ApplyWorkerOptions = {
    mediaType: opts.mediaType,
    overlay: opts.overlay,
    ...(opts.expectedDigest ? { expectedDigest: opts.expectedDigest } : {}),
    ...(opts.digestVerified ? { digestVerified: true } : {}),
    ...(opts.maxUncompressedSize !== undefined ? { maxUncompressedSize: opts.maxUncompressedSize } : {}),
    ...(opts.parents ? { parents: [...opts.parents] } : {}),
  };
  let sourceError: unknown;
  try {
    post({ type: 'start', id, target, opts: wopts });
    let batch: Uint8Array[] = [];
    let batched = 0;
    const send = async (data: Uint8Array): Promise<void> => {
      inflight += data.length;
      post({ type: 'chunk', id, data }, [data.buffer as ArrayBuffer]);
      while (inflight > APPLY_WINDOW && !settled) {
        await new Promise<void>((resolve) => (wakePump = resolve));
        wakePump = undefined;
      }
    };
    const flush = async (): Promise<void> => {
      if (batched === 0) return;
      // A fresh buffer of exactly the batch: posting a view would copy its whole backing store.
      const data = new Uint8Array(batched);
      let at = 0;
      for (const c of batch) {
        data.set(c, at);
        at += c.length;
      }
      batch = [];
      batched = 0;
      await send(data);
    };
    // Moving a handed-over chunk spares a copy and, above all, the allocation: a pull's hundreds
    // of MB of fresh batch buffers made V8 run a full collection every ~100 ms on this thread.
    const moving = opts.chunksOwned === true;
    try {
      for await (const chunk of stream) {
        if (settled) break;
        if (moving && movable(chunk)) {
          await flush();
          if (settled) break;
          await send(chunk);
          continue;
        }
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= APPLY_BATCH) await flush();
      }
      if (!settled) {
        await flush();
        post({ type: 'end', id });
      }
    } catch (err) {
      sourceError = err;
      post({ type: 'fail', id, message: (err as Error)?.message ?? String(err) });
    }
    try {
      const result = await outcome;
      if (sourceError !== undefined) throw sourceError;
      return result;
    } catch (err) {
      throw sourceError ?? err;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    release(slot);
  }
}
