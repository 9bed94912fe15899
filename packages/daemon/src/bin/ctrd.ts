#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

/**
 * ctrd is the daemon binary. With no command it runs the daemon in the foreground; `config
 * default` prints the full default config and `config dump` the effective one.
 */
interface GlobalArgs {
  config?: string;
  root?: string;
  state?: string;
  address?: string;
  'log-level'?: string;
}

async function loaded(argv: GlobalArgs) {
  const [{ loadConfig, DEFAULT_CONFIG_PATH }, { builtins }] = await Promise.all([import('@ctrd/config'), import('../builtins.js')]);
  const registrations = builtins();
  const opts = {
    path: argv.config,
    fallback: argv.config ? undefined : DEFAULT_CONFIG_PATH,
    overrides: { root: argv.root, state: argv.state, address: argv.address, logLevel: argv['log-level'] },
  };
  let cfg = await loadConfig({ ...opts, registrations });
  // Extra plugin packages are named in the config itself; sections for their plugins only warn
  // until they are known, so the config is read again only when packages add registrations.
  if (cfg.config.plugins_packages.length) {
    const { loadPluginPackages } = await import('../plugin-packages.js');
    registrations.push(...(await loadPluginPackages(cfg.config.plugins_packages, cfg.config.plugin_dir)));
    cfg = await loadConfig({ ...opts, registrations });
  }
  return { ...cfg, registrations };
}

async function run(argv: GlobalArgs): Promise<void> {
  const { config, warnings, files, registrations } = await loaded(argv);
  const { createLogger } = await import('@ctrd/log');
  const log = createLogger({ level: config.debug.level, format: config.debug.format });
  for (const w of warnings) log.warn(w);
  log.info({ config: files[0] ?? '(built-in defaults)', root: config.root, state: config.state }, 'starting ctrd');
  const { Daemon } = await import('../daemon.js');
  let daemon;
  try {
    daemon = await Daemon.start({ config, registrations, log });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'ctrd failed to start');
    log.flush?.();
    process.stderr.write(`ctrd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { sdNotify } = await import('../notify.js');
  notify(sdNotify, 'READY=1', log);
  const stop = (signal: string) => {
    log.info({ signal }, 'received signal');
    notify(sdNotify, 'STOPPING=1', log);
    daemon.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function notify(fn: (s: string) => boolean, state: string, log: { warn(o: object, m: string): void }): void {
  try {
    fn(state);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'sd_notify failed');
  }
}

function fail(err: unknown): never {
  process.stderr.write(`ctrd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

await yargs(hideBin(process.argv))
  .scriptName('ctrd')
  .usage('$0 [options]\n\nctrd is a container runtime daemon that speaks containerd\'s v1 gRPC API on a unix socket.')
  .option('config', { alias: 'c', type: 'string', describe: 'path to the config file (default /etc/ctrd/config.toml when present)' })
  .option('root', { type: 'string', describe: 'persistent data directory (overrides `root`)' })
  .option('state', { type: 'string', describe: 'runtime state directory (overrides `state`)' })
  .option('address', { alias: 'a', type: 'string', describe: 'gRPC socket path (overrides `[grpc] address`)' })
  .option('log-level', { alias: 'l', type: 'string', describe: 'log level: trace, debug, info, warn, error, fatal' })
  .command('$0', 'run the daemon in the foreground', {}, (argv) => run(argv as GlobalArgs).catch(fail))
  .command('config <action>', 'print the configuration', (y) =>
    y.positional('action', { choices: ['default', 'dump'] as const, describe: 'default: the full built-in default; dump: the effective config' }),
    async (argv) => {
      try {
        const { renderConfig, renderDefaultConfig } = await import('@ctrd/config');
        if (argv.action === 'default') {
          const { builtins } = await import('../builtins.js');
          process.stdout.write(renderDefaultConfig(builtins()));
        } else {
          const { config, registrations } = await loaded(argv as GlobalArgs);
          process.stdout.write(renderConfig(config, registrations, false));
        }
      } catch (err) {
        fail(err);
      }
    })
  .strict()
  .help()
  .version(false)
  .parseAsync();
