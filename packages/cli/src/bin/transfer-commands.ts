import type { Argv, CommandModule } from 'yargs';
import type { Lazy } from './store-commands.js';

function registryOptions(y: Argv): Argv {
  return y
    .option('plain-http', { type: 'boolean', default: false, describe: 'use HTTP for the registry' })
    .option('hosts-dir', { type: 'string', describe: 'directory of <registry>/hosts.toml files' })
    .option('user', { alias: 'u', type: 'string', describe: 'registry credentials as user[:password]' })
    .option('platform', { type: 'string', array: true, default: [], describe: 'platform os/arch[/variant] (repeatable; the host by default)' })
    .option('all-platforms', { type: 'boolean', default: false, describe: 'every platform of the image' });
}

function pullOptions(y: Argv): Argv {
  return registryOptions(y.positional('ref', { type: 'string', demandOption: true, describe: 'image reference (normalised: busybox → docker.io/library/busybox:latest)' }))
    .option('max-concurrent-downloads', { type: 'number', default: 3, describe: 'layers downloaded at once' })
    .option('snapshotter', { type: 'string', default: process.env.CONTAINERD_SNAPSHOTTER ?? '', describe: 'snapshotter to unpack into (env CONTAINERD_SNAPSHOTTER; the daemon default when empty)' })
    .option('label', { type: 'string', array: true, default: [], describe: 'image labels as key=value' });
}

/**
 * transferCommands defines `pull`, `push` and `fetch`, which run in the daemon through ctrd's
 * Transfer service and show progress bars on a TTY (plain lines elsewhere), and `fetch-object`,
 * which reads one object from a registry in this process.
 */
export function transferCommands(lazy: Lazy): CommandModule[] {
  const tr = (fn: 'pull' | 'push' | 'fetch') => lazy(async () => (await import('../commands/transfer.js'))[fn] as never);
  return [
    {
      command: 'pull <ref>',
      describe: 'pull and unpack an image (server-side, with progress)',
      builder: (y: Argv) => pullOptions(y).option('unpack', { type: 'boolean', default: true, describe: 'unpack into the snapshotter (--no-unpack to skip)' }),
      handler: tr('pull'),
    },
    {
      command: 'fetch <ref>',
      describe: 'download an image\'s content and record it, without unpacking',
      builder: (y: Argv) => pullOptions(y).option('unpack', { type: 'boolean', default: false, hidden: true }),
      handler: tr('fetch'),
    },
    {
      command: 'push <remote> [local]',
      describe: 'push a local image (the remote name by default) to a registry',
      builder: (y: Argv) => registryOptions(y.positional('remote', { type: 'string', demandOption: true }).positional('local', { type: 'string' })),
      handler: tr('push'),
    },
    {
      command: 'fetch-object <ref> [digest]',
      describe: 'print one object of a remote image (the resolved root by default) to stdout, storing nothing',
      builder: (y: Argv) =>
        y
          .positional('ref', { type: 'string', demandOption: true, describe: 'image reference to resolve' })
          .positional('digest', { type: 'string', describe: 'digest of a blob or manifest in the same repository' })
          .option('plain-http', { type: 'boolean', default: false, describe: 'use HTTP for the registry' })
          .option('hosts-dir', { type: 'string', describe: 'directory of <registry>/hosts.toml files' })
          .option('user', { alias: 'u', type: 'string', describe: 'registry credentials as user[:password]' }),
      handler: lazy(async () => (await import('../commands/fetch-object.js')).fetchObject as never),
    },
  ];
}
