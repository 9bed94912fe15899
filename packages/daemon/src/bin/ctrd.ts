#!/usr/bin/env node
import { parseArgs } from 'node:util';

/**
 * ctrd is the daemon binary. With no command it runs the daemon in the foreground; `config
 * default` prints the full default config and `config dump` the effective one; `fsck` checks a
 * stopped daemon's root.
 */
interface GlobalArgs {
  config?: string;
  root?: string;
  state?: string;
  address?: string;
  'log-level'?: string;
}

async function loaded(argv: GlobalArgs, pause?: () => Promise<void>) {
  const [{ loadConfig, configureTimeouts, DEFAULT_CONFIG_PATH }, { builtins }] = await Promise.all([import('@ctrd/config'), import('../builtins.js')]);
  const registrations = await builtins(pause);
  const opts = {
    path: argv.config,
    fallback: argv.config ? undefined : DEFAULT_CONFIG_PATH,
    overrides: { root: argv.root, state: argv.state, address: argv.address, logLevel: argv['log-level'] },
  };
  let cfg = await loadConfig({ ...opts, registrations });
  // Extra plugin packages and proxy plugins are named in the config itself; sections for their
  // plugins only warn until they are known, so the config is read again only when they add some.
  const proxies = Object.keys(cfg.config.proxy_plugins).length > 0;
  if (cfg.config.plugins_packages.length || proxies) {
    if (cfg.config.plugins_packages.length) {
      const { loadPluginPackages } = await import('../plugin-packages.js');
      registrations.push(...(await loadPluginPackages(cfg.config.plugins_packages, cfg.config.plugin_dir)));
    }
    if (proxies) {
      const { proxyPluginRegistrations } = await import('@ctrd/proxy-plugins');
      registrations.push(...proxyPluginRegistrations(cfg.config.proxy_plugins));
    }
    cfg = await loadConfig({ ...opts, registrations });
  }
  // Like containerd's, the [timeouts] table is process-wide and set before any plugin starts.
  configureTimeouts(cfg.config.timeouts);
  return { ...cfg, registrations };
}

/**
 * listenEarly binds the gRPC socket from the config file alone, before the plugin packages load,
 * so that Version answers while they do. The config is read again with the plugins known.
 */
async function listenEarly(argv: GlobalArgs) {
  const [{ loadConfig, DEFAULT_CONFIG_PATH }, { EarlyServer, earlyServerOptions }] = await Promise.all([import('@ctrd/config'), import('../early-server.js')]);
  const { config } = await loadConfig({
    path: argv.config,
    fallback: argv.config ? undefined : DEFAULT_CONFIG_PATH,
    overrides: { root: argv.root, state: argv.state, address: argv.address, logLevel: argv['log-level'] },
    registrations: [],
  });
  return EarlyServer.listen(earlyServerOptions(config));
}

async function run(argv: GlobalArgs): Promise<void> {
  const early = await listenEarly(argv);
  // The socket answers while the plugins load: a signal then stops the daemon once it is up (the
  // handlers run once, so a second signal ends the process at once, as before).
  let signalled: string | undefined;
  let stop = (signal: string) => void (signalled ??= signal);
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Between its steps the loading lets a client that is talking to the socket go first.
  const pause = () => early.pause();
  let cfg;
  try {
    cfg = await loaded(argv, pause);
  } catch (err) {
    await early.close();
    throw err;
  }
  const { config, warnings, files, registrations } = cfg;
  const { createLogger } = await import('@ctrd/log');
  const log = createLogger({ level: config.debug.level, format: config.debug.format });
  for (const w of warnings) log.warn(w);
  log.info({ config: files[0] ?? '(built-in defaults)', root: config.root, state: config.state }, 'starting ctrd');
  await pause();
  const { Daemon } = await import('../daemon.js');
  await pause();
  let daemon: Awaited<ReturnType<typeof Daemon.start>>;
  try {
    daemon = await Daemon.start({ config, registrations, log, early });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'ctrd failed to start');
    log.flush?.();
    process.stderr.write(`ctrd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { sdNotify } = await import('../notify.js');
  notify(sdNotify, 'READY=1', log);
  stop = (signal: string) => {
    log.info({ signal }, 'received signal');
    notify(sdNotify, 'STOPPING=1', log);
    daemon.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  if (signalled) stop(signalled);
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

/**
 * daemonArgs parses a plain daemon invocation (only the global options) without loading yargs;
 * anything else (commands, --help, other spellings) is left to yargs.
 */
function daemonArgs(args: string[]): GlobalArgs | undefined {
  try {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        root: { type: 'string' },
        state: { type: 'string' },
        address: { type: 'string', short: 'a' },
        'log-level': { type: 'string', short: 'l' },
      },
    });
    return positionals.length === 0 ? values : undefined;
  } catch {
    return undefined;
  }
}

// No top-level await: the bundle is also built as CommonJS (see scripts/bundle.mjs).
const plain = daemonArgs(process.argv.slice(2));
if (plain) void run(plain).catch(fail);
else void cli().catch(fail);

async function cli(): Promise<void> {
  const [{ default: yargs }, { hideBin }] = await Promise.all([import('yargs'), import('yargs/helpers')]);
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
            process.stdout.write(renderDefaultConfig(await builtins()));
          } else {
            const { config, registrations } = await loaded(argv as GlobalArgs);
            process.stdout.write(renderConfig(config, registrations, false));
          }
        } catch (err) {
          fail(err);
        }
      })
    .command('fsck', 'check a stopped daemon\'s root offline (exit 1 on violations)', (y) =>
      y.option('repair', { type: 'boolean', default: false, describe: 'remove leftovers that are safe to remove' })
        .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'output format' })
        .option('skip-digests', { type: 'boolean', default: false, describe: 'do not hash blob contents' })
        .option('skip-mounts', { type: 'boolean', default: false, describe: 'do not look for leftover mounts' })
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'also print notes (resumable ingests, task mounts)' }),
      async (argv) => {
        try {
          const { config } = await loaded(argv as GlobalArgs);
          const { fsckCommand } = await import('@ctrd/fsck');
          const snapshotters: Record<string, string> = {};
          for (const [uri, section] of Object.entries(config.plugins)) {
            const rootPath = (section as { root_path?: unknown }).root_path;
            if (uri.startsWith('io.containerd.snapshotter.v1.') && typeof rootPath === 'string' && rootPath) snapshotters[uri.slice(29)] = rootPath;
          }
          process.exitCode = await fsckCommand({
            root: config.root, state: config.state, address: config.grpc.address, snapshotters,
            repair: argv.repair, format: argv.format, skipDigests: argv['skip-digests'], skipMounts: argv['skip-mounts'], verbose: argv.verbose,
          });
        } catch (err) {
          fail(err);
        }
      })
    .strict()
    .help()
    .version(false)
    .parseAsync();
}
