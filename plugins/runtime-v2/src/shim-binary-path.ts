import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';

/**
 * shimBinaryName maps a runtime name to its shim binary as containerd does: the last two
 * dot-separated parts name it, so `io.containerd.runc.v2` runs `containerd-shim-runc-v2`. It
 * returns undefined for a name with fewer than two parts.
 */
export function shimBinaryName(runtime: string): string | undefined {
  const parts = runtime.split('.');
  if (parts.length < 2) return undefined;
  return `containerd-shim-${parts[parts.length - 2]}-${parts[parts.length - 1]}`;
}

/** ShimLookup tunes {@link resolveShimBinary}. */
export interface ShimLookup {
  /** runtime name → binary (a path, or a name looked up like a runtime's binary). */
  runtimes?: Readonly<Record<string, { binary?: string }>>;
  /** directories searched after PATH. */
  extraDirs?: readonly string[];
  /** the search path; `process.env.PATH` by default. */
  path?: string;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** defaultShimDirs lists where ctrd looks for shims besides PATH: beside the daemon, and ctrd's own shim package. */
export function defaultShimDirs(): string[] {
  const dirs: string[] = [];
  if (process.argv[1] !== undefined) dirs.push(dirname(resolve(process.argv[1])));
  try {
    const main = createRequire(import.meta.url).resolve('@ctrd/shim');
    dirs.push(join(dirname(main), '..', 'bin'));
  } catch {
    // The shim package is not installed: runtimes must be on PATH or configured.
  }
  return dirs;
}

/**
 * resolveShimBinary finds the executable for `runtime`: an absolute path is used as it is; a
 * name in the `runtimes` table uses its `binary`; otherwise the containerd mapping
 * ({@link shimBinaryName}) is searched on PATH, then in `extraDirs`.
 *
 * @throws InvalidArgumentError for an empty or malformed runtime name, NotFoundError when no
 * binary is installed.
 */
export function resolveShimBinary(runtime: string, lookup: ShimLookup = {}): string {
  if (runtime === '') throw new InvalidArgumentError('no runtime name');
  if (isAbsolute(runtime)) {
    if (!isExecutable(runtime)) throw new NotFoundError(`invalid custom binary path ${runtime}`);
    return runtime;
  }
  const configured = lookup.runtimes?.[runtime]?.binary;
  const name = configured ?? shimBinaryName(runtime);
  if (name === undefined || name === '') {
    throw new InvalidArgumentError(
      `invalid runtime name ${runtime}, correct runtime name should be either format like \`io.containerd.runc.v1\` or a full path to the binary`,
    );
  }
  if (isAbsolute(name)) {
    if (!isExecutable(name)) throw new NotFoundError(`runtime "${runtime}" binary ${name}`);
    return name;
  }
  const dirs = [...(lookup.path ?? process.env['PATH'] ?? '').split(delimiter), ...(lookup.extraDirs ?? [])];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = resolve(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new NotFoundError(`runtime "${runtime}" binary not installed "${name}"`);
}
