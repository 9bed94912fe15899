import { parseArgs } from 'node:util';
import type { GlobalArgs } from '../global.js';

/** FastCommand is a command recognised without yargs, with its arguments as yargs would give them. */
export interface FastCommand {
  name: 'version' | 'images ls';
  argv: GlobalArgs & Record<string, unknown>;
}

const GLOBAL_OPTIONS = {
  address: { type: 'string', short: 'a' },
  namespace: { type: 'string', short: 'n' },
  timeout: { type: 'string' },
  format: { type: 'string' },
} as const;

const IMAGES_LS_OPTIONS = {
  quiet: { type: 'boolean', short: 'q' },
  snapshotter: { type: 'string' },
  platform: { type: 'string' },
} as const;

/**
 * fastCommand recognises the commonest invocations, `version` and `images ls`, from the raw
 * arguments, so that they skip loading and building the yargs command tree. It returns
 * undefined for anything else or anything unusual (help, unknown options, other
 * spellings), which yargs then handles as always.
 */
export function fastCommand(args: string[], env: NodeJS.ProcessEnv = process.env): FastCommand | undefined {
  if (args.some((a) => a === '--' || a.startsWith('--no-') || a === '-h' || a === '--help')) return undefined;
  const isVersion = args.filter((a) => !a.startsWith('-')).at(0) === 'version';
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options: isVersion ? GLOBAL_OPTIONS : { ...GLOBAL_OPTIONS, ...IMAGES_LS_OPTIONS } });
  } catch {
    return undefined;
  }
  const { values, positionals } = parsed;
  const v = values as Record<string, string | boolean | undefined>;
  const format = (v.format as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') return undefined;
  let timeout: number | undefined;
  if (v.timeout !== undefined) {
    timeout = Number(v.timeout);
    if (v.timeout === '' || !Number.isFinite(timeout)) return undefined;
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
  return undefined;
}
