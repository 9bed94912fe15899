import type { Argv, CommandModule } from 'yargs';
import { containersCreateCommand } from './runtime-commands.js';

/** Handler is a command handler as ctrctl's lazy wrapper returns it. */
type Handler = (argv: any) => Promise<void>;
/** Lazy wraps a loader of a command's handler so its module is imported only when it runs. */
export type Lazy = (load: () => Promise<Handler>) => Handler;

/**
 * handlersFrom names the handlers a command module exports, importing the module (through `lazy`)
 * only when one runs. Errors leave with containerd's class suffix (`image "x": not found`), as
 * ctr prints them.
 */
export function handlersFrom(lazy: Lazy, load: () => Promise<Record<string, unknown>>): (fn: string) => Handler {
  return (fn) =>
    lazy(async () => {
      const [mod, { messageWithSuffix }] = await Promise.all([load(), import('@ctrd/errdefs')]);
      const handler = mod[fn] as Handler;
      return async (argv) => {
        try {
          await handler(argv);
        } catch (err) {
          throw new Error(messageWithSuffix(err), { cause: err });
        }
      };
    });
}

const labelsArg = (y: Argv, describe = 'labels as key=value (key= clears)') => y.positional('labels', { type: 'string', array: true, default: [], describe });
const filtersArg = (y: Argv) => y.positional('filters', { type: 'string', array: true, default: [], describe: 'containerd filters' });
const quiet = (y: Argv, describe: string) => y.option('quiet', { alias: 'q', type: 'boolean', default: false, describe });

/**
 * storeCommands defines the commands over the daemon's metadata and content: namespaces,
 * content, images, containers, leases, events and snapshots. Each handler's module is loaded
 * only when its command runs.
 */
export function storeCommands(lazy: Lazy): CommandModule[] {
  const from = (load: () => Promise<Record<string, unknown>>) => handlersFrom(lazy, load);
  const ns = from(() => import('../commands/namespaces.js'));
  const ct = from(() => import('../commands/content.js'));
  const im = from(() => import('../commands/images.js'));
  const ia = from(() => import('../commands/images-archive.js'));
  const co = from(() => import('../commands/containers.js'));
  const le = from(() => import('../commands/leases.js'));
  const sn = from(() => import('../commands/snapshots.js'));
  const ev = from(() => import('../commands/events.js'));
  const snapshotter = { type: 'string', default: process.env.CONTAINERD_SNAPSHOTTER ?? 'overlayfs', describe: 'snapshotter name (env CONTAINERD_SNAPSHOTTER)' } as const;
  const platform = { type: 'string', describe: 'platform os/arch[/variant] (host platform by default)' } as const;

  return [
    {
      command: ['namespaces', 'namespace', 'ns'],
      describe: 'manage namespaces',
      builder: (y: Argv) =>
        y
          .command(['create <name> [labels..]', 'c'], 'create a namespace', (c) => labelsArg(c), ns('namespacesCreate'))
          .command(['ls', 'list'], 'list namespaces (NAME LABELS)', (c) => quiet(c, 'print only names'), ns('namespacesLs'))
          .command('label <name> [labels..]', 'set and clear namespace labels', (c) => labelsArg(c), ns('namespacesLabel'))
          .command(['rm <names..>', 'remove'], 'remove empty namespaces', {}, ns('namespacesRm'))
          .demandCommand(1, 'name a subcommand: create, ls, label or rm'),
      handler: () => {},
    },
    {
      command: 'content',
      describe: 'manage content (blobs)',
      builder: (y: Argv) =>
        y
          .command(['ls [filters..]', 'list'], 'list blobs (DIGEST SIZE AGE LABELS)', (c) => quiet(filtersArg(c), 'print only digests'), ct('contentLs'))
          .command('get <digests..>', 'write blobs to stdout', {}, ct('contentGet'))
          .command('ingest <ref>', 'store stdin as a blob', (c) =>
            c
              .option('expected-size', { type: 'number', describe: 'expected size' })
              .option('expected-digest', { type: 'string', describe: 'expected digest' })
              .option('label', { type: 'string', array: true, default: [], describe: 'labels for the blob, key=value' }), ct('contentIngest'))
          .command('active [filters..]', 'list ingests in progress (REF SIZE AGE)', (c) => filtersArg(c), ct('contentActive'))
          .command('label <digest> [labels..]', 'set and clear blob labels', (c) => labelsArg(c), ct('contentLabel'))
          .command(['rm <digests..>', 'del', 'delete', 'remove'], 'delete blobs', {}, ct('contentRm'))
          .command('edit <digest>', 'edit a blob in $EDITOR and print the new digest', (c) =>
            c.option('editor', { type: 'string', describe: 'editor command (env EDITOR)' }), ct('contentEdit'))
          .demandCommand(1, 'name a subcommand: ls, get, ingest, active, label, rm or edit'),
      handler: () => {},
    },
    {
      command: ['images', 'image', 'i'],
      describe: 'manage images',
      builder: (y: Argv) =>
        y
          .command(['ls [filters..]', 'list'], 'list images (REF TYPE DIGEST SIZE UNPACKED PLATFORMS LABELS)', (c) =>
            quiet(filtersArg(c), 'print only names').option('snapshotter', snapshotter).option('platform', platform), im('imagesLs'))
          .command('tag <source> <targets..>', 'name an image again', (c) =>
            c.option('force', { type: 'boolean', default: false, describe: 'replace existing names' }), im('imagesTag'))
          .command('label <name> [labels..]', 'set and clear image labels', (c) =>
            labelsArg(c).option('replace-all', { alias: 'r', type: 'boolean', default: false, describe: 'replace all labels' }), im('imagesLabel'))
          .command(['rm <names..>', 'del', 'delete', 'remove'], 'delete images', (c) =>
            c.option('sync', { type: 'boolean', default: false, describe: 'wait for garbage collection' }), im('imagesRm'))
          .command('check [filters..]', 'check that images are complete (REF TYPE DIGEST STATUS SIZE UNPACKED)', (c) =>
            quiet(filtersArg(c), 'print only complete images').option('snapshotter', snapshotter).option('platform', platform), im('imagesCheck'))
          .command('import <archive>', 'import an image archive (path or - for stdin)', (c) =>
            c
              .option('base-name', { type: 'string', describe: 'base image name for added images' })
              .option('digests', { type: 'boolean', default: false, describe: 'also name images by digest' })
              .option('skip-digest-for-named', { type: 'boolean', default: false, describe: 'no digest names for named images (needs --digests)' })
              .option('index-name', { type: 'string', describe: 'name for the archive index itself' })
              .option('all-platforms', { type: 'boolean', default: false, describe: 'import every platform' })
              .option('platform', platform)
              .option('unpack', { type: 'boolean', default: true, describe: 'unpack into the snapshotter (--no-unpack to skip)' })
              .option('compress-blobs', { type: 'boolean', default: false, describe: 'gzip uncompressed layers' })
              .option('snapshotter', snapshotter)
              .option('label', { type: 'string', array: true, default: [], describe: 'image labels key=value' }), ia('imagesImport'))
          .command('export <out> <images..>', 'export images to an OCI archive (path or - for stdout)', (c) =>
            c
              .option('platform', { type: 'string', array: true, describe: 'platforms to export' })
              .option('all-platforms', { type: 'boolean', default: false, describe: 'export every platform' })
              .option('skip-manifest-json', { type: 'boolean', default: false, describe: 'leave out Docker manifest.json' })
              .option('skip-non-distributable', { type: 'boolean', default: false, describe: 'leave out non-distributable layers' }), ia('imagesExport'))
          .demandCommand(1, 'name a subcommand: ls, tag, label, rm, check, import or export'),
      handler: () => {},
    },
    {
      command: ['containers', 'container', 'c'],
      describe: 'manage container records',
      builder: (y: Argv) =>
        y
          .command(['ls [filters..]', 'list'], 'list containers (CONTAINER IMAGE RUNTIME)', (c) => quiet(filtersArg(c), 'print only IDs'), co('containersLs'))
          .command(containersCreateCommand(lazy))
          .command('info <id>', 'print a container as JSON', (c) => c.option('spec', { type: 'boolean', default: false, describe: 'only the spec' }), co('containersInfo'))
          .command('label <id> [labels..]', 'set and clear container labels', (c) => labelsArg(c), co('containersLabel'))
          .command(['rm <ids..>', 'del', 'delete', 'remove'], 'delete containers', (c) =>
            c.option('keep-snapshot', { type: 'boolean', default: false, describe: 'keep the container snapshot' }), co('containersRm'))
          .demandCommand(1, 'name a subcommand: ls, create, info, label or rm'),
      handler: () => {},
    },
    {
      command: ['leases', 'lease'],
      describe: 'manage leases',
      builder: (y: Argv) =>
        y
          .command('create [labels..]', 'create a lease and print its ID', (c) =>
            labelsArg(c)
              .option('id', { type: 'string', describe: 'lease ID (random by default)' })
              .option('expires', { alias: 'x', type: 'string', default: '24h', describe: 'expiry as a duration, 0 for none' }), le('leasesCreate'))
          .command(['ls [filters..]', 'list'], 'list leases (ID CREATED AT LABELS)', (c) => quiet(filtersArg(c), 'print only IDs'), le('leasesLs'))
          .command(['rm <ids..>', 'del', 'delete', 'remove'], 'delete leases', (c) =>
            c.option('sync', { type: 'boolean', default: false, describe: 'wait for garbage collection' }), le('leasesRm'))
          .demandCommand(1, 'name a subcommand: create, ls or rm'),
      handler: () => {},
    },
    {
      command: ['events [filters..]', 'event'],
      describe: 'print events as they happen',
      builder: (y: Argv) =>
        filtersArg(y).option('since', { type: 'number', describe: 'first replay the retained events after this sequence number (ctrd only)' }),
      handler: ev('eventsCmd'),
    },
    {
      command: ['snapshots', 'snapshot'],
      describe: 'inspect and remove snapshots',
      builder: (y: Argv) =>
        y
          .option('snapshotter', snapshotter)
          .command(['ls [filters..]', 'list'], 'list snapshots (KEY PARENT KIND)', (c) => filtersArg(c), sn('snapshotsLs'))
          .command('info <key>', 'print a snapshot as JSON', {}, sn('snapshotsInfo'))
          .command('tree', 'draw snapshots as a tree', {}, sn('snapshotsTree'))
          .command('usage [keys..]', 'show disk usage (KEY SIZE INODES)', (c) =>
            c.option('bytes', { alias: 'b', type: 'boolean', default: false, describe: 'sizes in bytes' }), sn('snapshotsUsage'))
          .command(['rm <keys..>', 'del', 'delete', 'remove'], 'remove snapshots', {}, sn('snapshotsRm'))
          .demandCommand(1, 'name a subcommand: ls, info, tree, usage or rm'),
      handler: () => {},
    },
  ];
}
