import { connect } from 'node:net';
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FailedPreconditionError } from '@ctrd/errdefs';

/** isListening reports whether something accepts connections on a unix socket path. */
export function isListening(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * prepareSocket makes a unix socket path ready to bind: it creates the directory, refuses when a
 * live server already answers there (another ctrd), and removes a stale socket file.
 */
export async function prepareSocket(path: string, what = 'ctrd'): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o711 });
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new FailedPreconditionError(`${path} exists and is not a socket`);
  if (await isListening(path)) throw new FailedPreconditionError(`another ${what} is already serving on ${path}`);
  await unlink(path);
}

/** secureSocket sets a socket's mode to 0660 and its owner to uid:gid. */
export async function secureSocket(path: string, uid: number, gid: number): Promise<void> {
  await chmod(path, 0o660);
  if (process.getuid?.() === 0) await chown(path, uid, gid);
}
