import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { shimServerPaths } from '@ctrd/shim/address';

let launcher: string | null | undefined;

/**
 * ownShimLauncher returns the real path of ctrd's own shim launcher (`containerd-shim-ctrd-v1`
 * of `@ctrd/shim`), or undefined when that package is not installed.
 */
export function ownShimLauncher(): string | undefined {
  if (launcher === undefined) {
    try {
      const main = createRequire(import.meta.url).resolve('@ctrd/shim');
      launcher = realpathSync(join(dirname(main), '..', 'bin', 'containerd-shim-ctrd-v1'));
    } catch {
      launcher = null;
    }
  }
  return launcher ?? undefined;
}

const verdicts = new Map<string, boolean>();

/** isOwnShim reports whether `binary` (a path, possibly a link) is ctrd's own shim launcher. */
export function isOwnShim(binary: string): boolean {
  let known = verdicts.get(binary);
  if (known === undefined) {
    const own = ownShimLauncher();
    try {
      known = own !== undefined && realpathSync(binary) === own;
    } catch {
      known = false;
    }
    verdicts.set(binary, known);
  }
  return known;
}

/**
 * startedFor reports whether process `pid` has `socket` among its arguments, as the shim server
 * for that socket does: a server killed outright leaves its pid file, and the pid may since have
 * gone to another process.
 */
function startedFor(pid: number, socket: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(socket);
  } catch {
    return false;
  }
}

/**
 * runningShimServer returns the `unix://` address of the shim server that already serves
 * `namespace` for the daemon at `address`, or undefined when none is running. Connecting to it
 * directly saves the launcher (a shell and a lock) on every task; a server that is exiting
 * refuses Create with UnavailableError, and the caller then goes through the launcher.
 */
export function runningShimServer(address: string, namespace: string): string | undefined {
  const paths = shimServerPaths(address, namespace);
  try {
    const pid = Number(readFileSync(paths.pid, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    if (!startedFor(pid, paths.socket)) return undefined;
  } catch {
    return undefined;
  }
  return existsSync(paths.socket) ? paths.address : undefined;
}
