import { parseArgs } from 'node:util';
import type { GlobalArgs } from '../global.js';

/** FastCommand is a command recognised without yargs, with its arguments as yargs would give them. */
export interface FastCommand {
  name: 'version' | 'images ls' | 'pull' | 'fetch';
  argv: GlobalArgs & Record<string, unknown>;
}

const GLOBAL_OPTIONS = {
  address: { type: 'string', short: 'a' },
  namespace: { type: 'string', short: 'n' },
  timeout: { type: 'string' },
  format: { type: 'string' },
} as const;

/** GLOBAL_VALUE_FLAGS are the spellings of the global options, all of which take a value. */
const GLOBAL_VALUE_FLAGS = new Set(
  Object.entries(GLOBAL_OPTIONS).flatMap(([name, o]) => [`--${name}`, ...('short' in o ? [`-${o.short}`] : [])]),
);

const IMAGES_LS_OPTIONS = {
  quiet: { type: 'boolean', short: 'q' },
  snapshotter: { type: 'string' },
  platform: { type: 'string' },
} as const;

// `pull` and `fetch` (as transfer-commands.ts defines them; `--no-unpack` goes to yargs). yargs
// lets `--platform` and `--label` swallow every word after them, so there `pull --platform
// linux/amd64 busybox` lacks its reference; here the reference stays a reference.
const PULL_OPTIONS = {
  'plain-http': { type: 'boolean' },
  'hosts-dir': { type: 'string' },
  user: { type: 'string', short: 'u' },
  platform: { type: 'string', multiple: true },
  'all-platforms': { type: 'boolean' },
  'max-concurrent-downloads': { type: 'string' },
  snapshotter: { type: 'string' },
  label: { type: 'string', multiple: true },
} as const;

const OPTIONS_OF: Record<string, object> = { version: {}, images: IMAGES_LS_OPTIONS, image: IMAGES_LS_OPTIONS, i: IMAGES_LS_OPTIONS, pull: PULL_OPTIONS, fetch: PULL_OPTIONS };

/** number reads a numeric option as yargs would accept it; undefined when it would not. */
function number(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * fastCommand recognises the commonest invocations, `version`, `images ls`, `pull` and
 * `fetch`, from the raw arguments, so that they skip loading and building the yargs command
 * tree (about 0.1 s of a pull's start-up). It returns undefined for anything else or anything
 * unusual (help, unknown options, other spellings), which yargs then handles as always.
 */
export function fastCommand(args: string[], env: NodeJS.ProcessEnv = process.env): FastCommand | undefined {
  // `-u=x` is `x` to yargs but `=x` to parseArgs: such spellings go to yargs.
  if (args.some((a) => a === '--' || a.startsWith('--no-') || a === '-h' || a === '--help' || /^-[^-]=/.test(a))) return undefined;
  // The first word that is neither an option nor an option's value names the command.
  const first = args.find((a, i) => !a.startsWith('-') && !GLOBAL_VALUE_FLAGS.has(args[i - 1] ?? ''));
  const options = first === undefined ? undefined : OPTIONS_OF[first];
  if (!options) return undefined;
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options: { ...GLOBAL_OPTIONS, ...options } });
  } catch {
    return undefined;
  }
  const { values, positionals } = parsed;
  const v = values as Record<string, string | boolean | string[] | undefined>;
  const format = (v.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') return undefined;
  let timeout: number | undefined;
  if (v.timeout !== undefined) {
    timeout = number(v.timeout as string);
    if (timeout === undefined) return undefined;
  }
  const argv: FastCommand['argv'] = {
    address: (v.address as string | undefined) ?? env.CTRD_ADDRESS ?? '/run/ctrd/ctrd.sock',
    namespace: (v.namespace as string | undefined) ?? env.CONTAINERD_NAMESPACE ?? 'default',
    format,
    ...(timeout !== undefined ? { timeout } : {}),
  };
  if (positionals.length === 1 && positionals[0] === 'version') return { name: 'version', argv };
  if (positionals.length >= 2 && ['images', 'image', 'i'].includes(positionals[0]!) && ['ls', 'list'].includes(positionals[1]!)) {
    return {
      name: 'images ls',
      argv: {
        ...argv,
        filters: positionals.slice(2),
        quiet: v.quiet === true,
        snapshotter: (v.snapshotter as string | undefined) ?? env.CONTAINERD_SNAPSHOTTER ?? 'overlayfs',
        ...(v.platform !== undefined ? { platform: v.platform } : {}),
      },
    };
  }
  if (positionals.length === 2 && (positionals[0] === 'pull' || positionals[0] === 'fetch')) {
    let downloads = 3;
    if (v['max-concurrent-downloads'] !== undefined) {
      const n = number(v['max-concurrent-downloads'] as string);
      if (n === undefined) return undefined;
      downloads = n;
    }
    return {
      name: positionals[0],
      argv: {
        ...argv,
        ref: positionals[1],
        'plain-http': v['plain-http'] === true,
        ...(v['hosts-dir'] !== undefined ? { 'hosts-dir': v['hosts-dir'] } : {}),
        ...(v.user !== undefined ? { user: v.user } : {}),
        platform: (v.platform as string[] | undefined) ?? [],
        'all-platforms': v['all-platforms'] === true,
        'max-concurrent-downloads': downloads,
        snapshotter: (v.snapshotter as string | undefined) ?? env.CONTAINERD_SNAPSHOTTER ?? '',
        label: (v.label as string[] | undefined) ?? [],
        unpack: positionals[0] === 'pull',
      },
    };
  }
  return undefined;
}
