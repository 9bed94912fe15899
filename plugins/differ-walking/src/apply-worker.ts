import { parentPort } from 'node:worker_threads';
import { applyLayerStream } from './apply-stream.js';
import { codeOf, CtrdError } from '@ctrd/errdefs';
import type { ToMain, ToWorker } from './apply-protocol.js';

// The worker side of `applyInWorker`: one apply at a time, fed chunk by chunk by the main
// thread, so that hashing, decompression, tar parsing and the synchronous file writes of an
// apply never block the daemon's event loop.

const port = parentPort;
if (!port) throw new Error('apply-worker must run in a worker thread');

interface Job {
  chunks: Uint8Array[];
  ended: boolean;
  error: Error | undefined;
  wake: (() => void) | undefined;
  abort: AbortController;
}

let job: Job | undefined;

// Errors an apply is known to fail with. A failed apply can re-emit its error through the stream
// plumbing with no listener left, while or after it settles: unhandled, that would end the
// worker and fail the next, innocent apply. Anything else unhandled is a real fault: the worker ends and the main
// thread fails the apply in progress.
const spent = new WeakSet<object>();
const stray = (err: unknown): void => {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (spent.has(e)) return;
    e = (e as { cause?: unknown }).cause;
  }
  process.stderr.write(`layer apply worker: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
};
process.on('unhandledRejection', stray);
process.on('uncaughtException', stray);

function send(msg: ToMain): void {
  port!.postMessage(msg);
}

async function* source(j: Job, id: number): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = j.chunks.shift();
    if (chunk) {
      send({ type: 'ack', id, bytes: chunk.length });
      yield chunk;
      continue;
    }
    if (j.error) throw j.error;
    if (j.ended) return;
    await new Promise<void>((resolve) => (j.wake = resolve));
    j.wake = undefined;
  }
}

async function run(id: number, target: string, opts: Extract<ToWorker, { type: 'start' }>['opts']): Promise<void> {
  const j: Job = { chunks: [], ended: false, error: undefined, wake: undefined, abort: new AbortController() };
  job = j;
  try {
    const result = await applyLayerStream(source(j, id), target, { ...opts, signal: j.abort.signal });
    send({ type: 'result', id, result });
  } catch (err) {
    const e = err as Error;
    for (let x: unknown = err; x && typeof x === 'object'; x = (x as { cause?: unknown }).cause) spent.add(x);
    if (j.error) spent.add(j.error);
    send({ type: 'error', id, code: err instanceof CtrdError ? codeOf(err) : 'UNKNOWN', message: e?.message ?? String(err), plain: !(err instanceof CtrdError) });
  } finally {
    if (job === j) job = undefined;
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') {
    void run(msg.id, msg.target, msg.opts);
    return;
  }
  const j = job;
  if (!j) return;
  if (msg.type === 'chunk') j.chunks.push(msg.data);
  else if (msg.type === 'end') j.ended = true;
  else if (msg.type === 'fail') {
    // The apply fails with this error, possibly more than once through the stream plumbing.
    j.error = new Error(msg.message);
    spent.add(j.error);
  }
  else if (msg.type === 'abort') j.abort.abort();
  j.wake?.();
});
