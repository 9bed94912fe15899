#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { storeCommands } from './store-commands.js';
import { transferCommands } from './transfer-commands.js';
import { runtimeCommands } from './runtime-commands.js';

/**
 * ctrctl is ctrd's command-line client. Each command's code is imported only when that command
 * runs, so `ctrctl --help` and simple commands start quickly.
 */

function fail(err: unknown): never {
  process.stderr.write(`ctrctl: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

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
