import { lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { AlreadyExistsError, FailedPreconditionError } from '@ctrd/errdefs';

const PROBE_TIMEOUT_MS = 1000;

/** probe reports whether something accepts connections on the unix socket at `path`. */
function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ path });
    const done = (live: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    // A listener whose backlog is full does not answer in time but is still alive.
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * removeStaleSocket clears `path` for a new listener: nothing there is fine, a socket nobody
 * answers on is removed, a live socket is refused with `AlreadyExistsError` and any other kind of
 * file with `FailedPreconditionError`.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new FailedPreconditionError(`ttrpc: ${path} exists and is not a socket`);
  if (await probe(path)) throw new AlreadyExistsError(`ttrpc: socket ${path} is in use by a live server`);
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
