import { InvalidArgumentError } from '@ctrd/errdefs';

/** ShimArgs is what containerd passes a runtime v2 shim binary on its command line. */
export interface ShimArgs {
  namespace: string;
  /** containerd's gRPC address (`-address`). */
  address: string;
  publishBinary: string;
  id: string;
  /** Bundle directory (`-bundle`); containerd gives it to `delete` only, `start` runs with cwd = bundle. */
  bundle: string;
  debug: boolean;
  /** Socket path of the shim server (`-socket`, our own flag for the server process). */
  socket: string;
  /** The subcommand: `start`, `delete`, or `''` to serve. */
  action: string;
  /**
   * A descriptor the server writes one line to and closes once it serves (`-ready-fd`, our own
   * flag, which the launcher passes so that it can wait on a pipe instead of polling).
   */
  readyFd?: number;
}

const STRING_FLAGS: Record<string, keyof ShimArgs> = {
  namespace: 'namespace',
  address: 'address',
  'publish-binary': 'publishBinary',
  id: 'id',
  bundle: 'bundle',
  socket: 'socket',
  'ready-fd': 'readyFd',
};

/**
 * parseShimArgs reads Go `flag`-style arguments (`-name value`, `--name=value`, `-debug`) as
 * containerd passes them, up to the first non-flag, which is the action.
 *
 * @throws InvalidArgumentError for an unknown flag or a flag without its value.
 */
export function parseShimArgs(argv: readonly string[]): ShimArgs {
  const out: ShimArgs = {
    namespace: '', address: '', publishBinary: '', id: '', bundle: '', debug: false, socket: '', action: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      out.action = arg === '--' ? (argv[i + 1] ?? '') : arg;
      break;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === 'debug') {
      out.debug = eq < 0 || body.slice(eq + 1) !== 'false';
      continue;
    }
    const key = STRING_FLAGS[name];
    if (key === undefined) throw new InvalidArgumentError(`flag provided but not defined: -${name}`);
    let value: string | undefined;
    if (eq >= 0) value = body.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new InvalidArgumentError(`flag needs an argument: -${name}`);
    if (key === 'readyFd') {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`invalid value "${value}" for flag -${name}: not a file descriptor`);
      out.readyFd = Number(value);
      continue;
    }
    (out as unknown as Record<string, string>)[key] = value;
  }
  return out;
}
