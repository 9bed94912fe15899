import { createServer, type Server } from 'node:http';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { codeOf } from '@ctrd/errdefs';
import { grpcCodeOf, toServiceError, type BoundService, type CallObserver } from '@ctrd/grpc';
import { isMetricsProvider, type Kernel, type MetricFamily } from '@ctrd/plugin';
import type { Logger } from '@ctrd/log';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** IDLE_SAMPLE_MS is how often the event-loop lag is sampled (the only timer of an idle daemon). */
const IDLE_SAMPLE_MS = 100;

/**
 * DaemonMetrics holds ctrd's Prometheus registry: gRPC request counts and latencies, plugin
 * init times, process metrics, and whatever plugins report through `collectMetrics`. It serves
 * the text exposition format on `/v1/metrics`, as containerd does.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  readonly #latency?: Histogram<'grpc_service' | 'grpc_method'>;
  readonly #kernel: Kernel;
  readonly #scrapeErrors: Gauge;
  readonly #families = new Map<string, { labels: Set<string>; gauge: Gauge }>();
  #server?: Server;

  constructor(kernel: Kernel, opts: { histogram: boolean }) {
    this.#kernel = kernel;
    // The event-loop lag histogram samples on a timer; prom-client's 10 ms default woke an idle
    // daemon 100 times a second.
    collectDefaultMetrics({ register: this.registry, prefix: 'ctrd_', eventLoopMonitoringPrecision: IDLE_SAMPLE_MS });
    // These three are gauges named like counters, which Prometheus' own lint rejects.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(`ctrd_${name}`);
    }
    this.#requests = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers: [this.registry],
    });
    if (opts.histogram) {
      this.#latency = new Histogram({
        name: 'grpc_server_handling_seconds',
        help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
        labelNames: ['grpc_service', 'grpc_method'],
        buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [this.registry],
      });
    }
    new Gauge({
      name: 'ctrd_plugin_init_seconds',
      help: 'Time each plugin took to initialise.',
      labelNames: ['type', 'id', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of kernel.records()) this.set({ type: r.type, id: r.id, status: r.status }, (r.initMs ?? 0) / 1000);
      },
    });
    this.#scrapeErrors = new Gauge({
      name: 'ctrd_plugin_metrics_scrape_errors',
      help: 'Plugins whose metrics could not be collected on the last scrape.',
      registers: [this.registry],
    });
  }

  /**
   * refresh asks every plugin that reports metrics for its families and loads them into the
   * registry. It runs before each scrape: a family a plugin reports for the first time must be
   * registered before the registry renders, which prom-client's own `collect` hooks run too late for.
   */
  async refresh(): Promise<void> {
    let errors = 0;
    const seen = new Set<string>();
    for (const r of this.#kernel.records()) {
      if (r.status !== 'ok' || !isMetricsProvider(r.instance)) continue;
      let families: MetricFamily[];
      try {
        families = await r.instance.collectMetrics();
      } catch {
        errors++;
        continue;
      }
      for (const fam of families) {
        const name = `ctrd_${fam.name}`;
        let family = this.#families.get(name);
        const wanted = fam.samples.flatMap((s) => Object.keys(s.labels ?? {}));
        // A family first seen without samples knows no label names yet: re-create its gauge
        // once samples bring new ones, since prom-client fixes a metric's label set at creation.
        if (!family || wanted.some((l) => !family!.labels.has(l))) {
          const labels = new Set([...(family?.labels ?? []), ...wanted]);
          if (family) this.registry.removeSingleMetric(name);
          family = { labels, gauge: new Gauge({ name, help: fam.help, labelNames: [...labels], registers: [this.registry] }) };
          this.#families.set(name, family);
        }
        const g = family.gauge;
        if (!seen.has(name)) g.reset();
        seen.add(name);
        for (const s of fam.samples) g.set(s.labels ?? {}, s.value);
      }
    }
    for (const [name, f] of this.#families) if (!seen.has(name)) f.gauge.reset();
    this.#scrapeErrors.set(errors);
  }

  /** observe records one finished RPC. */
  observe(path: string, ms: number, err: unknown): void {
    const [, service = '', method = ''] = path.split('/');
    const code = err ? String(grpcCodeName(err)) : 'OK';
    this.#requests.inc({ grpc_service: service, grpc_method: method, grpc_code: code });
    this.#latency?.observe({ grpc_service: service, grpc_method: method }, ms / 1000);
  }

  /**
   * instrumentService observes every call of a bound service: those grpc-js serves, through its
   * implementation, and those the daemon serves itself, through their observer.
   */
  instrumentService(svc: BoundService): BoundService {
    // A handler's error counts under the status the client was sent, as through grpc-js.
    const observe: CallObserver = (path, ms, err) => this.observe(path, ms, err === undefined ? undefined : toServiceError(err));
    return {
      definition: svc.definition,
      implementation: this.instrument(svc.definition, svc.implementation),
      direct: svc.direct?.map((m) => {
        const own = m.observe;
        return { ...m, observe: own === undefined ? observe : (path: string, ms: number, err: unknown) => (own(path, ms, err), observe(path, ms, err)) };
      }),
    };
  }

  /** instrument wraps a grpc-js implementation so that every call is observed. */
  instrument(definition: Record<string, { path: string }>, impl: UntypedServiceImplementation): UntypedServiceImplementation {
    const out: UntypedServiceImplementation = {};
    for (const [name, fn] of Object.entries(impl)) {
      const path = definition[name]?.path ?? name;
      out[name] = ((call: NodeJS.EventEmitter & { on: Function }, cb?: (err: unknown, res?: unknown) => void) => {
        const started = performance.now();
        if (typeof cb === 'function') {
          return (fn as Function)(call, (err: unknown, res: unknown, ...rest: unknown[]) => {
            this.observe(path, performance.now() - started, err ?? undefined);
            cb(err, res, ...(rest as []));
          });
        }
        let done = false;
        const finish = (err?: unknown) => {
          if (done) return;
          done = true;
          this.observe(path, performance.now() - started, err);
        };
        call.on('finish', () => finish());
        call.on('error', (e: unknown) => finish(e));
        return (fn as Function)(call);
      }) as never;
    }
    return out;
  }

  /** serve starts the HTTP endpoint on `host:port`. */
  async serve(address: string, log: Logger): Promise<void> {
    const i = address.lastIndexOf(':');
    const host = i > 0 ? address.slice(0, i).replace(/^\[|\]$/g, '') : '127.0.0.1';
    const port = Number(address.slice(i + 1));
    this.#server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/v1/metrics') {
        res.writeHead(404).end('not found\n');
        return;
      }
      this.refresh().then(() => this.registry.metrics()).then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        (err) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, host, () => resolve());
    });
    log.info({ address }, 'serving metrics on /v1/metrics');
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

function grpcCodeName(err: unknown): string {
  const code = typeof (err as { code?: unknown })?.code === 'number' ? ((err as { code: number }).code) : grpcCodeOf(err);
  const names = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];
  return names[code] ?? codeOf(err);
}
