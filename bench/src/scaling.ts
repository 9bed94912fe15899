import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startRegistry, type TestRegistry } from '@ctrd/transfer/testing';
import { withCpu } from './cpu.js';
import { CTRCTL, timed, type BenchDaemon, type CtrResult, type DaemonKind } from './daemons.js';
import { publishLayeredImage, type LayeredImage } from './layered-image.js';
import { cpuPids } from './measure.js';
import { scalingPoint, type ScalingLine, type ScalingSeries } from './scaling-report.js';
import { createImages, ensureImage, type BenchContext } from './workloads.js';

/** ScalingLineDef is one line of a series: which daemon, and how one sample at `x` is taken. */
export interface ScalingLineDef {
  name: string;
  daemon: DaemonKind;
  sample(d: BenchDaemon, x: number, ctx: BenchContext): number;
}

/** ScalingSeriesDef is a scaling measurement: the x values, the lines and the hooks around them. */
export interface ScalingSeriesDef {
  id: string;
  title: string;
  xLabel: string;
  unit: 'ms';
  xs(ctx: BenchContext): number[];
  detail(ctx: BenchContext): string;
  lines: ScalingLineDef[];
  /** once before the series (fixtures shared by both daemons). */
  prepare?(ctx: BenchContext): Promise<void>;
  /** per daemon before the samples at `x`. */
  setup?(d: BenchDaemon, x: number, ctx: BenchContext): Promise<void> | void;
  /** untimed, outside the CPU reading, before every sample (also the warm-up). */
  beforeSample?(d: BenchDaemon, x: number, n: number): void;
  /** per daemon after the samples at `x`. */
  teardown?(d: BenchDaemon, x: number, ctx: BenchContext): Promise<void> | void;
  /** once after the series. */
  finish?(): Promise<void>;
}

const SNAPSHOTTER = 'overlayfs';
const LONG = 900_000;

function check(d: BenchDaemon, what: string, r: CtrResult): number {
  if (r.code !== 0) throw new Error(`${d.kind}: ${what}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.ms;
}

let registry: TestRegistry | undefined;
const layered = new Map<number, LayeredImage>();
const pullMiB = (ctx: BenchContext) => (ctx.quick ? 40 : 200);

function image(x: number): LayeredImage {
  const img = layered.get(x);
  if (!img) throw new Error(`no ${x}-layer image was published`);
  return img;
}

/** makeCold removes the image and every blob of it, then runs a synchronous GC, so the next pull fetches and unpacks all. */
function makeCold(d: BenchDaemon, img: LayeredImage, n: number): void {
  d.ctr(['images', 'rm', '--sync', img.ref]);
  const present = new Set(d.ctr(['content', 'ls', '-q']).stdout.split('\n'));
  const left = img.blobs.filter((b) => present.has(b.digest)).map((b) => b.digest);
  if (left.length) d.ctr(['content', 'rm', ...left]);
  d.collectGarbage(`bench-scale-gc-${n}`);
  spawnSync('sync');
}

const ctrPull = (d: BenchDaemon, x: number) =>
  check(d, 'ctr images pull', d.ctr(['images', 'pull', '--plain-http', '--snapshotter', SNAPSHOTTER, image(x).ref], { discardStdout: true, timeoutMs: LONG }));

const ctrctlPull = (d: BenchDaemon, x: number) =>
  check(d, 'ctrctl pull', timed(CTRCTL, ['--address', d.address, '--namespace', d.namespace, 'pull', '--plain-http', '--snapshotter', SNAPSHOTTER, image(x).ref], { discardStdout: true, timeoutMs: LONG }));

// How many scaling image records each daemon holds; the series only ever adds to them.
const imageRecords = new Map<DaemonKind, number>();
const SCALE_PREFIX = 'docker.io/bench/scale:';

/** SCALING_SERIES are the `--scaling` measurements, in the order they run. */
export const SCALING_SERIES: ScalingSeriesDef[] = [
  {
    id: 'pull-layers',
    title: 'cold pull + unpack against layer count',
    xLabel: 'layers',
    unit: 'ms',
    xs: () => [1, 5, 20, 50],
    detail: (ctx) =>
      `~${pullMiB(ctx)} MB of random data in total split into equal gzip -1 layers, from docker-registry on 127.0.0.1, ${SNAPSHOTTER}; image, its blobs and snapshots removed and GC run (--sync) before each sample. \`ctr images pull --plain-http\` on both (client-side), \`ctrctl pull\` on ctrd (server-side). CPU: the daemon only (not ctr, ctrctl or unpigz).`,
    async prepare(ctx) {
      const r = (registry = await startRegistry({ parent: ctx.parent }));
      // Not left running when the harness dies before `finish`.
      process.once('exit', () => {
        try {
          process.kill(r.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      });
      for (const x of this.xs(ctx)) layered.set(x, await publishLayeredImage(registry.addr, x, pullMiB(ctx) << 20));
    },
    beforeSample: (d, x, n) => makeCold(d, image(x), n),
    teardown: (d, x) => makeCold(d, image(x), 0),
    async finish() {
      const r = registry;
      registry = undefined;
      layered.clear();
      if (r) {
        await r.stop().catch(() => undefined);
        rmSync(r.dir, { recursive: true, force: true });
      }
    },
    lines: [
      { name: 'containerd (ctr)', daemon: 'containerd', sample: ctrPull },
      { name: 'ctrd (ctr)', daemon: 'ctrd', sample: ctrPull },
      { name: 'ctrd (ctrctl)', daemon: 'ctrd', sample: ctrctlPull },
    ],
  },
  {
    id: 'images-ls-count',
    title: '`ctr images ls` against image count',
    xLabel: 'image records',
    unit: 'ms',
    xs: () => [100, 1000, 10000],
    detail: () => 'image records created through the Images API (ctrd\'s client library), all pointing at the busybox image; records are added between points, never removed.',
    async setup(d, x, ctx) {
      ensureImage(d, ctx);
      const have = imageRecords.get(d.kind) ?? 0;
      if (have < x) await createImages(d, SCALE_PREFIX, x, have);
      imageRecords.set(d.kind, Math.max(have, x));
    },
    lines: [
      { name: 'containerd', daemon: 'containerd', sample: (d) => d.must(['images', 'ls'], { discardStdout: true, timeoutMs: LONG }).ms },
      { name: 'ctrd', daemon: 'ctrd', sample: (d) => d.must(['images', 'ls'], { discardStdout: true, timeoutMs: LONG }).ms },
    ],
  },
];

/**
 * runScaling measures each series: per x, setup on both daemons, one warm-up sample per line,
 * then `rounds` rounds of one sample per line in the order given, the line's daemon CPU time read
 * around each. A failure at one x is recorded at that x (for the lines without samples) and the
 * series goes on with the next.
 */
export async function runScaling(defs: readonly ScalingSeriesDef[], daemons: readonly BenchDaemon[], ctx: BenchContext, rounds: number, log: (msg: string) => void): Promise<ScalingSeries[]> {
  const byKind = (k: DaemonKind) => {
    const d = daemons.find((x) => x.kind === k);
    if (!d) throw new Error(`no ${k} daemon`);
    return d;
  };
  const out: ScalingSeries[] = [];
  for (const def of defs) {
    log(`scaling ${def.id}: ${def.title}`);
    const lines: ScalingLine[] = def.lines.map((l) => ({ name: l.name, daemon: l.daemon, points: [] }));
    let prepared: string | undefined;
    try {
      await def.prepare?.(ctx);
    } catch (err) {
      prepared = (err as Error).message;
      log(`${def.id} prepare failed: ${prepared}`);
    }
    for (const x of def.xs(ctx)) {
      const samples = def.lines.map(() => [] as number[]);
      const cpu = def.lines.map(() => [] as number[]);
      let error = prepared;
      const t0 = Date.now();
      if (!error) {
        try {
          for (const d of daemons) await def.setup?.(d, x, ctx);
          for (const l of def.lines) {
            def.beforeSample?.(byKind(l.daemon), x, 0);
            l.sample(byKind(l.daemon), x, ctx);
          }
          for (let n = 1; n <= rounds; n++) {
            for (const [i, l] of def.lines.entries()) {
              const d = byKind(l.daemon);
              def.beforeSample?.(d, x, n);
              const { value, cpuMs } = await withCpu(() => cpuPids(d, 'daemon'), () => l.sample(d, x, ctx));
              samples[i]!.push(value);
              cpu[i]!.push(cpuMs);
            }
          }
        } catch (err) {
          error = (err as Error).message;
          log(`${def.id} at ${x} failed: ${error}`);
        } finally {
          for (const d of daemons) {
            try {
              await def.teardown?.(d, x, ctx);
            } catch (err) {
              log(`${def.id} teardown at ${x} on ${d.kind}: ${(err as Error).message}`);
            }
          }
        }
      }
      log(`${def.id} at ${x}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      for (const [i, l] of lines.entries()) l.points.push(scalingPoint(x, samples[i]!, cpu[i]!, samples[i]!.length < rounds ? error : undefined));
    }
    try {
      await def.finish?.();
    } catch (err) {
      log(`${def.id} finish: ${(err as Error).message}`);
    }
    out.push({ id: def.id, title: def.title, xLabel: def.xLabel, unit: def.unit, detail: def.detail(ctx), lines });
  }
  return out;
}
