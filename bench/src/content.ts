// The content rows: ingest and read of one blob through the socket, and their floors (the same
// `ctr` commands against a bare @grpc/grpc-js server).
import { closeSync, openSync } from 'node:fs';
import { cpuMs } from './cpu.js';
import { timed, type BenchDaemon } from './daemons.js';
import { FloorServer } from './start-floor.js';
import { summarize } from './stats.js';
import type { BenchContext, Workload } from './workloads.js';

/** ingestRooted ingests the content rows' blob and labels it a GC root. */
function ingestRooted(d: BenchDaemon, ctx: BenchContext): void {
  const { digest } = ctx.fixtures.blob;
  // `ctr content ingest` takes no lease, so until the root label is on, a collection the
  // previous row's deletions scheduled (both daemons rate-limit those) may take the blob:
  // ingest again when the label finds it gone.
  for (let attempt = 1; ; attempt++) {
    withBlobOnStdin(ctx, (fd) => d.must(ingestArgs(ctx, 'bench-get'), { stdinFd: fd }));
    // A root label keeps the blob from the garbage collector between samples.
    const r = d.ctr(['content', 'label', digest, 'containerd.io/gc.root=bench']);
    if (r.code === 0) break;
    if (attempt === 5 || !/not found/.test(r.stderr)) throw new Error(`${d.kind}: ctr content label: exit ${r.code}: ${r.stderr.trim()}`);
  }
}

/** ingestArgs are the arguments of `ctr content ingest` for the content rows' blob under `ref`. */
function ingestArgs(ctx: BenchContext, ref: string): string[] {
  const { size, digest } = ctx.fixtures.blob;
  return ['content', 'ingest', '--expected-size', String(size), '--expected-digest', digest, ref];
}

/** withBlobOnStdin runs `fn` with the content rows' blob open for reading, as a `ctr` stdin. */
function withBlobOnStdin<T>(ctx: BenchContext, fn: (fd: number) => T): T {
  const fd = openSync(ctx.fixtures.blob.path, 'r');
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * ingestSample is one sample of the `content-ingest` row: the timed `ctr content ingest` of the
 * blob on `d`, then, untimed, the blob removed and a synchronous collection. `onCpu` receives the
 * daemon's CPU time during the ingest alone.
 */
function ingestSample(d: BenchDaemon, ctx: BenchContext, n: number, onCpu?: (ms: number) => void): number {
  const before = d.pid === undefined ? undefined : cpuMs(d.pid);
  const ms = withBlobOnStdin(ctx, (fd) => d.must(ingestArgs(ctx, `bench-ingest-${n}`), { stdinFd: fd }).ms);
  const after = d.pid === undefined ? undefined : cpuMs(d.pid);
  if (before !== undefined && after !== undefined) onCpu?.(after - before);
  d.must(['content', 'rm', ctx.fixtures.blob.digest]);
  // The deleted blob must leave the disk, or the next ingest of the same bytes does nothing.
  d.collectGarbage(`bench-gc-${n}`);
  return ms;
}

// CPU time (ms) of the process serving each column during the measured samples of the
// `content-ingest-floor` row, by kind, read by its detail once the row has run.
const ingestFloorCpu = new Map<string, number[]>();

// The floor servers of the `content-get-floor` and `content-ingest-floor` rows, by the kind whose column they fill.
const floorServers = new Map<string, FloorServer>();

/** CONTENT_WORKLOADS are the content rows, in the order they run. */
export const CONTENT_WORKLOADS: Workload[] = [
  {
    id: 'content-ingest',
    title: '`ctr content ingest` from stdin',
    unit: 'ms',
    detail: (ctx) => `${ctx.fixtures.blob.size >> 20} MiB random, expected size and digest given`,
    sample: (d, ctx, n) => ingestSample(d, ctx, n),
  },
  {
    id: 'content-get',
    title: '`ctr content get` to /dev/null',
    unit: 'ms',
    detail: (ctx) => `${ctx.fixtures.blob.size >> 20} MiB blob`,
    setup: ingestRooted,
    sample: (d, ctx) => d.must(['content', 'get', ctx.fixtures.blob.digest], { discardStdout: true }).ms,
    teardown: (d, ctx) => void d.ctr(['content', 'rm', ctx.fixtures.blob.digest]),
  },
  {
    id: 'content-get-floor',
    title: 'floor of `ctr content get`: a bare @grpc/grpc-js server vs containerd',
    unit: 'ms',
    cpu: false,
    detail: (ctx) =>
      `${ctx.fixtures.blob.size >> 20} MiB blob; containerd column: containerd (as \`content-get\`); ctrd column: \`grpc-floor-server.js --blob\`, Node and grpc-js answering Content.Info and Content.Read from memory (polling 200 µs after each answer, as ctrd), no store, metadata or namespaces`,
    async setup(d, ctx) {
      if (d.kind === 'ctrd') floorServers.set(d.kind, await FloorServer.start(ctx.parent, ctx.fixtures.blob.path));
      else ingestRooted(d, ctx);
    },
    sample(d, ctx) {
      const floor = floorServers.get(d.kind);
      const r = floor
        ? timed('ctr', ['--address', floor.address, 'content', 'get', ctx.fixtures.blob.digest], { discardStdout: true })
        : d.ctr(['content', 'get', ctx.fixtures.blob.digest], { discardStdout: true });
      if (r.code !== 0) throw new Error(`${d.kind}: ctr content get: exit ${r.code}: ${r.stderr.trim()}`);
      return r.ms;
    },
    async teardown(d, ctx) {
      const floor = floorServers.get(d.kind);
      floorServers.delete(d.kind);
      if (floor) await floor.stop();
      else d.ctr(['content', 'rm', ctx.fixtures.blob.digest]);
    },
  },
  {
    id: 'content-ingest-floor',
    title: 'floor of `ctr content ingest`: a bare @grpc/grpc-js server vs containerd',
    unit: 'ms',
    cpu: false,
    detail(ctx) {
      const cpu = (kind: string) => {
        const xs = ingestFloorCpu.get(kind) ?? [];
        return xs.length ? `${summarize(xs).median.toFixed(0)} ms` : '?';
      };
      return (
        `${ctx.fixtures.blob.size >> 20} MiB random, expected size and digest given; containerd column: containerd (as \`content-ingest\`); ` +
        'ctrd column: `grpc-floor-server.js`, Node and grpc-js answering Content.Write with the offset and the sha256 so far on every message (polling 200 µs after the answer, as ctrd), ' +
        'data dropped once hashed, receive windows as ctrd sets them (4 MiB stream, 8 MiB session), no store, disk, metadata or namespaces; ' +
        `median CPU during the ingest: containerd ${cpu('containerd')}, floor server ${cpu('ctrd')}`
      );
    },
    async setup(d, ctx) {
      ingestFloorCpu.set(d.kind, []);
      if (d.kind === 'ctrd') floorServers.set(d.kind, await FloorServer.start(ctx.parent));
    },
    sample(d, ctx, n) {
      // The warm-up sample (n = 0) is not in the CPU figures, as in the rows' CPU column.
      const record = (ms: number) => void (n > 0 && ingestFloorCpu.get(d.kind)?.push(ms));
      const floor = floorServers.get(d.kind);
      if (!floor) return ingestSample(d, ctx, n, record);
      const before = floor.pid === undefined ? undefined : cpuMs(floor.pid);
      const r = withBlobOnStdin(ctx, (fd) => timed('ctr', ['--address', floor.address, ...ingestArgs(ctx, `bench-ingest-${n}`)], { stdinFd: fd }));
      if (r.code !== 0) throw new Error(`${d.kind}: ctr content ingest (floor server): exit ${r.code}: ${r.stderr.trim()}`);
      const after = floor.pid === undefined ? undefined : cpuMs(floor.pid);
      if (before !== undefined && after !== undefined) record(after - before);
      return r.ms;
    },
    async teardown(d) {
      const floor = floorServers.get(d.kind);
      floorServers.delete(d.kind);
      await floor?.stop();
    },
  },
];
