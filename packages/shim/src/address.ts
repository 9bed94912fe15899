import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** DEFAULT_RUN_DIR is where shim servers put their sockets, pid and lock files. */
export const DEFAULT_RUN_DIR = '/run/ctrd-shim';

/** ShimServerPaths are the files of one namespace's shim server. */
export interface ShimServerPaths {
  /** Unix socket the server listens on. */
  socket: string;
  /** `unix://` address `start` prints. */
  address: string;
  /** Pid file, written once the server listens. */
  pid: string;
  /** Lock file serialising `start` against the server's exit. */
  lock: string;
  /** Directory of claims: one empty file per id `start` handed out and Create has not yet seen. */
  pending: string;
  /** The server's own log. */
  log: string;
}

/**
 * shimServerKey is the server's name: the first 16 hex digits of sha256(`<address>/<namespace>`),
 * so each containerd (or ctrd) and namespace gets its own server and the socket path stays short.
 */
export function shimServerKey(address: string, namespace: string): string {
  return createHash('sha256').update(`${address}/${namespace}`).digest('hex').slice(0, 16);
}

/**
 * shimServerPaths returns the paths the launcher and the server agree on for a containerd
 * address and namespace; `runDir` defaults to `CTRD_SHIM_RUN_DIR` or {@link DEFAULT_RUN_DIR}.
 */
export function shimServerPaths(address: string, namespace: string, runDir?: string): ShimServerPaths {
  const dir = runDir ?? (process.env.CTRD_SHIM_RUN_DIR || DEFAULT_RUN_DIR);
  const base = join(dir, shimServerKey(address, namespace));
  return {
    socket: `${base}.sock`,
    address: `unix://${base}.sock`,
    pid: `${base}.pid`,
    lock: `${base}.lock`,
    pending: `${base}.pending`,
    log: `${base}.log`,
  };
}
