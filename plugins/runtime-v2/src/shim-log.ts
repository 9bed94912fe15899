import { constants, openSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import net from 'node:net';
import { FailedPreconditionError } from '@ctrd/errdefs';
import { mkfifo } from './fifo.js';

/** ShimLog is the read end of a bundle's `log` fifo; the shim writes its log lines into it. */
export interface ShimLog {
  close(): void;
}

/**
 * openShimLog creates the fifo at `path` when it is missing and opens it for reading without
 * blocking. containerd's Go shim opens the fifo for writing as it starts, and stalls when no
 * reader holds it, so this must happen before the shim is launched. Each line goes to `onLine`.
 */
export async function openShimLog(path: string, onLine: (line: string) => void): Promise<ShimLog> {
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined) mkfifo(path, 0o700);
  else if (!st.isFIFO()) throw new FailedPreconditionError(`${path} is not a fifo`);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: true, writable: false });
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line !== '') onLine(line);
    }
  });
  socket.on('error', () => {});
  return { close: () => socket.destroy() };
}
