import type { Argv } from 'yargs';
import type { FastCommand } from './fast-path.js';
import { fail } from './fail.js';

/**
 * The part of ctrctl that is an ES module: every command through yargs, and the commands
 * fast-path.ts recognises when they need the full client (`pull`, `fetch`, and `version` or
 * `images ls` when the lean exchange failed). ctrctl.ts, the CommonJS entry, imports it only
 * then.
 */

/** lazy wraps a handler that lives in a module loaded on demand. */
function lazy<A>(load: () => Promise<(argv: A) => Promise<void>>) {
  return async (argv: A) => {
    try {
      await (await load())(argv);
    } catch (err) {
      fail(err);
    }
  };
}

/**
 * runFull runs a command fastCommand recognised with the full client (for `version` and
 * `images ls`, after their lean exchange failed), reporting errors as the yargs path does.
 */
export async function runFull(cmd: FastCommand): Promise<void> {
  try {
    if (cmd.name === 'version') {
      await (await import('../commands/version.js')).version(cmd.argv);
      return;
    }
    if (cmd.name === 'pull' || cmd.name === 'fetch') {
      await (await import('../commands/transfer.js'))[cmd.name](cmd.argv as never);
      return;
    }
    const [{ imagesLs }, { messageWithSuffix }] = await Promise.all([import('../commands/images.js'), import('@ctrd/errdefs')]);
    try {
      await imagesLs(cmd.argv);
    } catch (err) {
      throw new Error(messageWithSuffix(err), { cause: err });
    }
  } catch (err) {
    fail(err);
  }
}

/** cli runs any command through yargs. */
export async function cli(): Promise<void> {
  const [{ default: yargs }, { hideBin }, { storeCommands }, { transferCommands }, { runtimeCommands }] = await Promise.all([
    import('yargs'),
    import('yargs/helpers'),
    import('./store-commands.js'),
    import('./transfer-commands.js'),
    import('./runtime-commands.js'),
  ]);
  await yargs(hideBin(process.argv))
    .scriptName('ctrctl')
    .usage('$0 <command> [options]\n\nctrctl talks to ctrd (or containerd) over its gRPC socket.')
    .option('address', { alias: 'a', type: 'string', default: process.env.CTRD_ADDRESS ?? '/run/ctrd/ctrd.sock', describe: 'daemon socket (env CTRD_ADDRESS)', global: true })
    .option('namespace', { alias: 'n', type: 'string', default: process.env.CONTAINERD_NAMESPACE ?? 'default', describe: 'namespace (env CONTAINERD_NAMESPACE)', global: true })
    .option('timeout', { type: 'number', describe: 'per-call timeout in seconds', global: true })
    .option('format', { type: 'string', choices: ['table', 'json'] as const, default: 'table', describe: 'output format', global: true })
    .command('version', 'print the client and server versions', {}, lazy(async () => (await import('../commands/version.js')).version as never))
    .command(['plugins', 'plugin'], 'inspect the daemon\'s plugins', (y: Argv) =>
      y
        .command(['ls [filters..]', 'list'], 'list plugins (TYPE ID PLATFORMS STATUS)', (c) =>
          c
            .positional('filters', { type: 'string', array: true, default: [], describe: 'containerd filters, e.g. type==io.containerd.snapshotter.v1' })
            .option('detailed', { alias: 'd', type: 'boolean', default: false, describe: 'show requires, exports, capabilities, init time and error' })
            .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only plugin URIs' }),
          lazy(async () => (await import('../commands/plugins.js')).pluginsLs as never))
        .command('tree', 'show the plugin dependency graph with init times', {}, lazy(async () => (await import('../commands/plugins.js')).pluginsTree as never))
        .demandCommand(1, 'name a subcommand: ls or tree'))
    .command(storeCommands(lazy))
    .command(transferCommands(lazy))
    .command(runtimeCommands(lazy))
    .completion('completion', 'print a bash completion script (add `source <(ctrctl completion)` to ~/.bashrc)')
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .fail((msg, err) => fail(err ?? msg))
    .parseAsync();
}
