import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { FifoIO, RemoteContainerStore, RemoteTasks, startTask, type TaskProcess } from '@ctrd/client';
import { FailedPreconditionError, InvalidArgumentError } from '@ctrd/errdefs';
import type { GlobalArgs } from '../global.js';
import { print, printJSON, table } from '../output.js';
import { eachItem, withConnection } from './common.js';
import { withFifoDir } from './run.js';
import { exitWith, localStreams } from './stdio.js';

/** TaskArgs are the arguments of the `tasks` subcommands. */
export interface TaskArgs extends GlobalArgs {
  id?: string;
  ids?: string[];
  args?: string[];
  execId?: string;
  tty?: boolean;
  detach?: boolean;
  cwd?: string;
  signal?: string;
  all?: boolean;
  force?: boolean;
  quiet?: boolean;
}

/** parseSignal accepts `SIGKILL`, `KILL` or `9`. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw new InvalidArgumentError(`unknown signal "${s}"`);
  return n;
}

const need = (id: string | undefined): string => {
  if (!id) throw new InvalidArgumentError('container id must be provided');
  return id;
};

/** tasksLs lists tasks (TASK PID STATUS), as `ctr tasks ls`. */
export async function tasksLs(argv: TaskArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const tasks = await new RemoteTasks(conn).list();
    if (argv.format === 'json') return printJSON(tasks);
    if (argv.quiet) return print(tasks.map((t) => t.id).join('\n'));
    print(table([['TASK', 'PID', 'STATUS'], ...tasks.map((t: TaskProcess) => [t.id, String(t.pid), t.status])]));
  });
}

/** tasksPs lists a task's processes (PID INFO). */
export async function tasksPs(argv: TaskArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const pids = await new RemoteTasks(conn).pids(need(argv.id));
    if (argv.format === 'json') return printJSON(pids);
    print(table([['PID', 'INFO'], ...pids.map((p) => [String(p.pid), p.info === undefined ? '-' : JSON.stringify(p.info)])]));
  });
}

/** tasksStart starts a created container's task in the foreground (or detached with -d). */
export async function tasksStart(argv: TaskArgs): Promise<void> {
  const id = need(argv.id);
  const status = await withConnection(argv, async (conn) => {
    if (argv.detach) return (await startTask(conn, id), 0);
    return withFifoDir(async (fifoDir) => {
      const local = localStreams(conn, id, '', !!argv.tty);
      const tasks = new RemoteTasks(conn);
      try {
        const started = await startTask(conn, id, { fifoDir, terminal: argv.tty, streams: local.streams });
        try {
          const exit = await tasks.wait(id);
          await started.io?.wait(2000);
          await tasks.delete(id).catch(() => undefined);
          return exit.status;
        } finally {
          await started.io?.close();
        }
      } finally {
        local.restore();
      }
    });
  });
  await exitWith(status);
}

/** tasksExec runs an extra process in a running task, its exit status becoming ctrctl's. */
export async function tasksExec(argv: TaskArgs): Promise<void> {
  const id = need(argv.id);
  const args = argv.args ?? [];
  if (args.length === 0) throw new InvalidArgumentError('exec needs a command');
  const execId = argv.execId || `exec-${randomBytes(6).toString('hex')}`;
  const status = await withConnection(argv, async (conn) => {
    const container = await new RemoteContainerStore(conn).get(conn.namespace, id);
    const spec = container.spec ? JSON.parse(Buffer.from(container.spec.value).toString('utf8')) : {};
    const proc = { ...spec.process, args, terminal: !!argv.tty, ...(argv.cwd ? { cwd: argv.cwd } : {}) };
    const tasks = new RemoteTasks(conn);
    if (argv.detach) {
      await tasks.exec(id, execId, proc);
      await tasks.start(id, execId);
      return 0;
    }
    return withFifoDir(async (dir) => {
      const local = localStreams(conn, id, execId, !!argv.tty);
      const io = await FifoIO.create(dir, execId, { stdin: true, terminal: argv.tty });
      try {
        io.attach(local.streams, () => tasks.closeIO(id, execId).catch(() => undefined));
        await tasks.exec(id, execId, proc, io.io);
        const exited = tasks.wait(id, execId);
        await tasks.start(id, execId);
        const exit = await exited;
        await io.wait(2000);
        await tasks.delete(id, execId).catch(() => undefined);
        return exit.status;
      } finally {
        await io.close();
        local.restore();
      }
    });
  });
  await exitWith(status);
}

/**
 * tasksAttach reattaches ctrctl's stdio to the fifos a running task was started with; a task
 * started detached has none.
 */
export async function tasksAttach(argv: TaskArgs): Promise<void> {
  const id = need(argv.id);
  const status = await withConnection(argv, async (conn) => {
    const tasks = new RemoteTasks(conn);
    const t = await tasks.get(id);
    if (!t.stdout || !existsSync(t.stdout)) throw new FailedPreconditionError(`task ${id} has no stdio fifos to attach to`);
    const io = FifoIO.existing({ stdin: t.stdin, stdout: t.stdout, stderr: t.stderr, terminal: t.terminal });
    const local = localStreams(conn, id, '', t.terminal);
    try {
      io.attach(local.streams);
      const exit = await tasks.wait(id);
      await io.wait(2000);
      return exit.status;
    } finally {
      io.detach();
      local.restore();
    }
  });
  await exitWith(status);
}

const each = (argv: TaskArgs, fn: (tasks: RemoteTasks, id: string) => Promise<void>) =>
  withConnection(argv, async (conn) => {
    const tasks = new RemoteTasks(conn);
    const ids = argv.ids ?? (argv.id ? [argv.id] : []);
    await eachItem(ids, (id) => fn(tasks, id), (id) => id);
  });

/** tasksPause freezes tasks. */
export const tasksPause = (argv: TaskArgs) => each(argv, (t, id) => t.pause(id));
/** tasksResume thaws tasks. */
export const tasksResume = (argv: TaskArgs) => each(argv, (t, id) => t.resume(id));

/** tasksKill signals tasks (SIGTERM unless `--signal`), or one exec process with `--exec-id`. */
export async function tasksKill(argv: TaskArgs): Promise<void> {
  const signal = parseSignal(argv.signal ?? 'SIGTERM');
  await each(argv, (t, id) => t.kill(id, signal, { execId: argv.execId, all: argv.all }));
}

/** tasksDelete deletes stopped tasks (`--force` kills a running one first), or one exec process. */
export async function tasksDelete(argv: TaskArgs): Promise<void> {
  await each(argv, async (t, id) => {
    if (argv.execId) {
      await t.delete(id, argv.execId);
      return;
    }
    const st = await t.get(id);
    if (st.status !== 'STOPPED' && st.status !== 'CREATED') {
      if (!argv.force) throw new FailedPreconditionError(`task must be stopped before deletion: ${st.status.toLowerCase()}`);
      const exited = t.wait(id);
      await t.kill(id, constants.signals.SIGKILL, { all: true });
      await exited;
    }
    await t.delete(id);
  });
}

function flatten(prefix: string, v: unknown, out: [string, string][]): void {
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') {
    out.push([prefix, String(v)]);
  }
}

/** tasksMetrics prints a task's metrics as METRIC VALUE rows (e.g. `memory.usage.usage`). */
export async function tasksMetrics(argv: TaskArgs): Promise<void> {
  const id = need(argv.id);
  await withConnection(argv, async (conn) => {
    const [m] = await new RemoteTasks(conn).metrics([`id==${id}`]);
    if (!m) throw new InvalidArgumentError(`no metrics received for ${id}`);
    if (argv.format === 'json') return printJSON({ id: m.id, timestamp: m.timestamp, typeUrl: m.typeUrl, data: m.data });
    const rows: [string, string][] = [];
    flatten('', m.data, rows);
    print(`ID\tTIMESTAMP\n${m.id}\t${m.timestamp?.toISOString() ?? '-'}\n\n` + table([['METRIC', 'VALUE'], ...rows]));
  });
}
