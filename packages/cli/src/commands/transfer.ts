import { RemoteTransfer, type Progress, type RegistryOptions } from '@ctrd/client';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { parseDockerRef } from '@ctrd/reference';
import { connection, type GlobalArgs } from '../global.js';
import { printJSON } from '../output.js';
import { ProgressView } from '../progress-view.js';

/** RegistryArgs are the registry options of pull, fetch and push. */
export interface RegistryArgs extends GlobalArgs {
  'plain-http': boolean;
  'hosts-dir'?: string;
  user?: string;
  platform: string[];
  'all-platforms': boolean;
}

/** PullArgs are the options of `ctrctl pull` and `ctrctl fetch`. */
export interface PullArgs extends RegistryArgs {
  ref: string;
  snapshotter: string;
  unpack: boolean;
  'max-concurrent-downloads': number;
  label: string[];
}

/** PushArgs are the options of `ctrctl push`. */
export interface PushArgs extends RegistryArgs {
  remote: string;
  local?: string;
}

function registry(argv: RegistryArgs): Partial<RegistryOptions> {
  const out: Partial<RegistryOptions> = { plainHttp: argv['plain-http'], hostsDir: argv['hosts-dir'] ?? '' };
  if (argv.user) {
    const i = argv.user.indexOf(':');
    out.username = i < 0 ? argv.user : argv.user.slice(0, i);
    out.password = i < 0 ? '' : argv.user.slice(i + 1);
  }
  return out;
}

function labels(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`label ${JSON.stringify(l)}: expected key=value`);
    out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

async function run(argv: GlobalArgs, start: (t: RemoteTransfer, signal: AbortSignal) => AsyncIterable<Progress>): Promise<void> {
  const conn = await connection(argv);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  const json = argv.format === 'json';
  const view = json ? undefined : new ProgressView();
  const events: Progress[] = [];
  try {
    for await (const p of start(new RemoteTransfer(conn), ac.signal)) {
      if (json) {
        if (p.image || p.done) events.push(p);
      } else view!.update(p);
    }
    view?.finish();
    if (json) printJSON(events);
  } catch (err) {
    view?.abort();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    conn.close();
  }
}

function pullOptions(argv: PullArgs) {
  return {
    ref: parseDockerRef(argv.ref).toString(),
    snapshotter: argv.snapshotter,
    platforms: argv.platform,
    allPlatforms: argv['all-platforms'],
    maxConcurrentDownloads: argv['max-concurrent-downloads'],
    registry: registry(argv),
    unpack: argv.unpack,
    labels: labels(argv.label),
  };
}

/** pull pulls an image in the daemon and shows its progress. */
export async function pull(argv: PullArgs): Promise<void> {
  await run(argv, (t, signal) => t.pull(pullOptions(argv), { signal }));
}

/** fetch downloads an image's content and records the image, without unpacking. */
export async function fetch(argv: PullArgs): Promise<void> {
  await run(argv, (t, signal) => t.fetch(pullOptions(argv), { signal }));
}

/** push uploads a local image (`local`, or `remote` itself) to `remote`. */
export async function push(argv: PushArgs): Promise<void> {
  const ref = parseDockerRef(argv.remote).toString();
  const name = argv.local ? parseDockerRef(argv.local).toString() : ref;
  await run(argv, (t, signal) => t.push({ name, ref, platforms: argv.platform, allPlatforms: argv['all-platforms'], registry: registry(argv) }, { signal }));
}
