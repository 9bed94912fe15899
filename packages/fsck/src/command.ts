import { formatReport } from './format.js';
import { runFsck } from './fsck.js';
import type { FsckOptions } from './types.js';

/** FsckCommandOptions are the options of `ctrd fsck`, resolved against the daemon's config. */
export interface FsckCommandOptions extends FsckOptions {
  format?: 'text' | 'json';
  /** also print notes (`info` findings) in text output. */
  verbose?: boolean;
  /** where the report goes (stdout unless given). */
  out?: (text: string) => void;
}

/**
 * fsckCommand runs {@link runFsck} for `ctrd fsck` and prints the report, returning the exit
 * status: 0 when no error remains, 1 when one does, 2 when fsck could not run (ctrd is running,
 * the root is missing), with the reason printed.
 */
export async function fsckCommand(opts: FsckCommandOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  try {
    const report = await runFsck(opts);
    out(formatReport(report, opts.format ?? 'text', opts.verbose));
    return report.errors > 0 ? 1 : 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    out(opts.format === 'json' ? `${JSON.stringify({ error: message })}\n` : `fsck: ${message}\n`);
    return 2;
  }
}
