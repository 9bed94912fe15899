import type { Argv, CommandModule } from 'yargs';
import { handlersFrom, type Lazy } from './store-commands.js';

const runtime = { type: 'string', default: 'io.containerd.ctrd.v1', describe: 'runtime name' } as const;
const snapshotter = { type: 'string', default: process.env.CONTAINERD_SNAPSHOTTER ?? 'overlayfs', describe: 'snapshotter name (env CONTAINERD_SNAPSHOTTER)' } as const;

/** containerFlags are the options `run` and `containers create` share. */
export function containerFlags(y: Argv): Argv {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'image name' })
    .positional('id', { type: 'string', demandOption: true, describe: 'container ID' })
    .positional('args', { type: 'string', array: true, default: [], describe: 'command (replaces the image\'s entrypoint and cmd)' })
    .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'allocate a terminal' })
    .option('env', { type: 'string', describe: 'environment variable KEY=VALUE (repeatable)' })
    .option('mount', { type: 'string', describe: 'mount type=bind,src=/a,dst=/b,options=rbind:ro (repeatable)' })
    .option('net-host', { type: 'boolean', default: false, describe: 'use the host\'s network namespace' })
    .option('privileged', { type: 'boolean', default: false, describe: 'all capabilities, devices and paths, no seccomp' })
    .option('cap-add', { type: 'string', describe: 'add a capability, e.g. CAP_SYS_ADMIN (repeatable)' })
    .option('memory-limit', { type: 'number', describe: 'memory limit in bytes' })
    .option('cpus', { type: 'number', describe: 'CPU limit (fractions allowed)' })
    .option('cwd', { type: 'string', describe: 'working directory' })
    .option('user', { alias: 'u', type: 'string', describe: 'uid[:gid]' })
    .option('readonly', { type: 'boolean', default: false, describe: 'read-only root filesystem' })
    .option('seccomp', { type: 'boolean', default: true, describe: 'apply the default seccomp profile (--no-seccomp to disable)' })
    .option('label', { type: 'string', describe: 'container label key=value (repeatable)' })
    .option('platform', { type: 'string', describe: 'image platform os/arch[/variant]' })
    .option('snapshotter', snapshotter)
    .option('runtime', runtime)
    .parserConfiguration({ 'unknown-options-as-args': true });
}

/**
 * runtimeCommands defines the commands that run containers: `run`, `tasks …` and
 * `containers create` (the latter registered by storeCommands next to the other container
 * commands). Each handler's module is loaded only when its command runs.
 */
export function runtimeCommands(lazy: Lazy): CommandModule[] {
  const from = (load: () => Promise<Record<string, unknown>>) => handlersFrom(lazy, load);
  const rn = from(() => import('../commands/run.js'));
  const tk = from(() => import('../commands/tasks.js'));
  const idArg = (y: Argv) => y.positional('id', { type: 'string', demandOption: true, describe: 'container ID' });
  const idsArg = (y: Argv) => y.positional('ids', { type: 'string', array: true, demandOption: true, describe: 'container IDs' });
  return [
    {
      command: 'run <image> <id> [args..]',
      describe: 'run a container from an image (exit status is the task\'s)',
      builder: (y: Argv) =>
        containerFlags(y)
          .option('rm', { type: 'boolean', default: false, describe: 'remove the task, container and snapshot after the exit' })
          .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'start the task and return without stdio' }),
      handler: rn('run'),
    },
    {
      command: ['tasks', 'task', 't'],
      describe: 'manage tasks',
      builder: (y: Argv) =>
        y
          .command(['ls', 'list'], 'list tasks (TASK PID STATUS)', (c) => c.option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only IDs' }), tk('tasksLs'))
          .command('start <id>', 'start a created container\'s task in the foreground', (c) =>
            idArg(c)
              .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'the container has a terminal' })
              .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'start without stdio and return' }), tk('tasksStart'))
          .command('ps <id>', 'list a task\'s processes (PID INFO)', (c) => idArg(c), tk('tasksPs'))
          .command('exec <id> [args..]', 'run an extra process in a task', (c) =>
            idArg(c)
              .positional('args', { type: 'string', array: true, default: [] })
              .option('exec-id', { type: 'string', describe: 'exec process ID (random by default)' })
              .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'allocate a terminal' })
              .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'start and return' })
              .option('cwd', { type: 'string', describe: 'working directory' })
              .parserConfiguration({ 'unknown-options-as-args': true }), tk('tasksExec'))
          .command('attach <id>', 'reattach to a running task\'s stdio fifos', (c) => idArg(c), tk('tasksAttach'))
          .command('pause <ids..>', 'pause tasks', (c) => idsArg(c), tk('tasksPause'))
          .command('resume <ids..>', 'resume tasks', (c) => idsArg(c), tk('tasksResume'))
          .command('kill <ids..>', 'signal tasks', (c) =>
            idsArg(c)
              .option('signal', { alias: 's', type: 'string', default: 'SIGTERM', describe: 'signal name or number' })
              .option('exec-id', { type: 'string', describe: 'signal one exec process' })
              .option('all', { type: 'boolean', default: false, describe: 'signal every process of the task' }), tk('tasksKill'))
          .command(['delete <ids..>', 'del', 'rm', 'remove'], 'delete stopped tasks', (c) =>
            idsArg(c)
              .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'kill a running task first' })
              .option('exec-id', { type: 'string', describe: 'delete one exec process' }), tk('tasksDelete'))
          .command(['metrics <id>', 'metric'], 'print a task\'s metrics', (c) => idArg(c), tk('tasksMetrics'))
          .demandCommand(1, 'name a subcommand: ls, start, ps, exec, attach, pause, resume, kill, delete or metrics'),
      handler: () => {},
    },
  ];
}

/** containersCreateCommand is `containers create IMAGE ID [cmd…]`, added to the containers commands. */
export function containersCreateCommand(lazy: Lazy): CommandModule {
  return {
    command: 'create <image> <id> [args..]',
    describe: 'create a container from an image without starting it',
    builder: containerFlags,
    handler: lazy(async () => {
      const [{ containersCreate }, { messageWithSuffix }] = await Promise.all([import('../commands/run.js'), import('@ctrd/errdefs')]);
      return async (argv: any) => {
        try {
          await containersCreate(argv);
        } catch (err) {
          throw new Error(messageWithSuffix(err), { cause: err });
        }
      };
    }),
  };
}
