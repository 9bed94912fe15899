import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  RemoteContentStore, RemoteImageStore, RemoteSnapshotter, generateSpec, newContainer, runContainer, startTask,
  type Connection, type NewContainerOptions, type SpecMount,
} from '@ctrd/client';
import { InvalidArgumentError, NotFoundError, isNotFound } from '@ctrd/errdefs';
import { chainIds, imageConfig, rootFS } from '@ctrd/images';
import { defaultMatcher, parsePlatform, strictMatcher } from '@ctrd/remotes';
import type { GlobalArgs } from '../global.js';
import { parseLabelArgs } from '../format.js';
import { withConnection } from './common.js';
import { exitWith, localStreams } from './stdio.js';

/** FIFO_ROOT is where ctrctl makes the stdio fifos of the tasks it runs. */
export const FIFO_ROOT = '/run/ctrctl/fifo';

/** RunArgs are the arguments of `run` and `containers create`. */
export interface RunArgs extends GlobalArgs {
  image: string;
  id: string;
  args?: string[];
  rm?: boolean;
  detach?: boolean;
  tty?: boolean;
  env?: string | string[];
  mount?: string | string[];
  netHost?: boolean;
  privileged?: boolean;
  capAdd?: string | string[];
  memoryLimit?: number;
  cpus?: number;
  cwd?: string;
  user?: string;
  readonly?: boolean;
  seccomp?: boolean;
  snapshotter: string;
  runtime: string;
  platform?: string;
  label?: string | string[];
}

// Repeatable options are plain strings (an array option would swallow the command after it).
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** parseMount reads ctr's `--mount type=bind,src=/a,dst=/b,options=rbind:ro`. */
export function parseMount(s: string): SpecMount {
  const m: SpecMount = { destination: '', type: 'bind', options: [] };
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    if (k === 'type') m.type = v;
    else if (k === 'src' || k === 'source') m.source = v;
    else if (k === 'dst' || k === 'destination' || k === 'target') m.destination = v;
    else if (k === 'options') m.options = v.split(':').filter(Boolean);
    else throw new InvalidArgumentError(`unknown mount option "${k}" in "${s}"`);
  }
  if (!m.destination) throw new InvalidArgumentError(`mount "${s}" has no destination`);
  return m;
}

/** containerOptions resolves the image and builds the container's spec and snapshot parent. */
async function containerOptions(conn: Connection, argv: RunArgs): Promise<NewContainerOptions> {
  const img = await new RemoteImageStore(conn).get(conn.namespace, argv.image);
  const matcher = argv.platform ? strictMatcher(parsePlatform(argv.platform)) : defaultMatcher();
  const { config } = await imageConfig(new RemoteContentStore(conn), img.target, matcher);
  const parent = chainIds(rootFS(config)).at(-1);
  if (parent) {
    try {
      await new RemoteSnapshotter(conn, argv.snapshotter).stat(parent);
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`image "${img.name}" is not unpacked in snapshotter "${argv.snapshotter}"`, { cause: err });
      throw err;
    }
  }
  const spec = generateSpec({
    id: argv.id,
    namespace: conn.namespace,
    image: config.config ?? {},
    args: argv.args ?? [],
    env: list(argv.env),
    cwd: argv.cwd,
    user: argv.user,
    mounts: list(argv.mount).map(parseMount),
    netHost: argv.netHost,
    privileged: argv.privileged,
    capAdd: list(argv.capAdd),
    memoryLimit: argv.memoryLimit,
    cpus: argv.cpus,
    tty: argv.tty,
    readonlyRootfs: argv.readonly,
    seccomp: argv.seccomp,
  });
  return {
    id: argv.id, image: img.name, snapshotter: argv.snapshotter, parent, spec, runtime: argv.runtime,
    labels: parseLabelArgs(list(argv.label)),
  };
}

/** containersCreate creates a container from an image without starting it. */
export async function containersCreate(argv: RunArgs): Promise<void> {
  await withConnection(argv, async (conn) => newContainer(conn, await containerOptions(conn, argv)));
}

/** withFifoDir runs `fn` with a fresh directory for stdio fifos, removed afterwards. */
export async function withFifoDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(FIFO_ROOT, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(FIFO_ROOT, 'io-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * run creates a container from an image and runs its task: in the foreground with stdio
 * attached (the exit status becomes ctrctl's), or with `-d` detached without stdio.
 */
export async function run(argv: RunArgs): Promise<void> {
  if (argv.rm && argv.detach) throw new InvalidArgumentError('flags --detach and --rm cannot be specified together');
  const status = await withConnection(argv, async (conn) => {
    const opts = await containerOptions(conn, argv);
    if (argv.detach) {
      await newContainer(conn, opts);
      const { pid } = await startTask(conn, argv.id);
      return pid >= 0 ? 0 : 1;
    }
    return withFifoDir(async (fifoDir) => {
      const local = localStreams(conn, argv.id, '', !!argv.tty);
      try {
        const exit = await runContainer(conn, { ...opts, fifoDir, terminal: argv.tty, streams: local.streams, rm: argv.rm });
        return exit.status;
      } finally {
        local.restore();
      }
    });
  });
  await exitWith(status);
}
