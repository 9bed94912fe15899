import 'reflect-metadata';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { isGrpcServicePlugin, type BoundService } from '@ctrd/grpc';
import { ttrpcAddressOf, type DaemonConfig } from '@ctrd/config';
import { Kernel, PluginType, type Registration } from '@ctrd/plugin';
import { isTtrpcServicePlugin, TtrpcServer } from '@ctrd/ttrpc';
import type { Logger } from '@ctrd/log';
import { prepareSocket, secureSocket } from './socket.js';
import { hostPlatform } from './platform.js';
import type { DaemonMetrics } from './metrics.js';
import { EarlyServer, earlyServerOptions } from './early-server.js';

/** DaemonOptions configures a Daemon. */
export interface DaemonOptions {
  config: DaemonConfig;
  registrations: readonly Registration[];
  log: Logger;
  /** the gRPC server already listening (`EarlyServer.listen`); `start` binds one otherwise. */
  early?: EarlyServer;
}

/**
 * Daemon is a running ctrd: the plugin kernel, the gRPC server on the unix socket and the ttrpc
 * server beside it. `start` refuses when another live daemon holds the socket; `stop` is
 * graceful and idempotent. The gRPC socket answers Version while the plugins load; other
 * calls wait for them (see EarlyServer).
 */
export class Daemon {
  readonly kernel: Kernel;
  readonly address: string;
  readonly ttrpcAddress: string;
  readonly #log: Logger;
  readonly #early: EarlyServer;
  readonly #ttrpc = new TtrpcServer();
  #metrics?: DaemonMetrics;
  #stopped?: Promise<void>;

  private constructor(opts: DaemonOptions, kernel: Kernel, early: EarlyServer) {
    this.kernel = kernel;
    this.#log = opts.log;
    this.address = opts.config.grpc.address;
    this.ttrpcAddress = ttrpcAddressOf(opts.config);
    this.#early = early;
  }

  /** start boots every plugin and begins serving. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config, log } = opts;
    const started = performance.now();
    await mkdir(config.root, { recursive: true, mode: 0o711 });
    await mkdir(config.state, { recursive: true, mode: 0o711 });
    const ttrpcAddress = ttrpcAddressOf(config);
    const early = opts.early ?? (await EarlyServer.listen(earlyServerOptions(config)));
    await prepareSocket(ttrpcAddress);
    if (config.oom_score !== 0) await setOomScore(config.oom_score, log);

    const kernel = new Kernel({
      registrations: opts.registrations,
      disabled: config.disabled_plugins,
      required: config.required_plugins,
      configs: config.plugins,
      root: config.root,
      state: config.state,
      address: config.grpc.address,
      ttrpcAddress,
      log,
      hostPlatform: hostPlatform(),
    });
    const d = new Daemon(opts, kernel, early);
    try {
      kernel.validateConfigs();
      await kernel.init();
      await d.#serve(config);
    } catch (err) {
      early.refuse();
      await d.stop();
      throw err;
    }
    log.info({ address: d.address, ttrpc: d.ttrpcAddress, ms: Math.round(performance.now() - started) }, 'ctrd successfully booted');
    return d;
  }

  async #serve(config: DaemonConfig): Promise<void> {
    // prom-client is loaded only when metrics are served.
    const metrics = config.metrics.address
      ? new (await import('./metrics.js')).DaemonMetrics(this.kernel, { histogram: config.metrics.grpc_histogram })
      : undefined;
    this.#metrics = metrics;
    const services: BoundService[] = [];
    for (const { id, instance } of this.kernel.instancesOf<unknown>(PluginType.GRPC)) {
      if (!isGrpcServicePlugin(instance)) continue;
      for (const svc of instance.grpcServices()) {
        services.push(metrics ? metrics.instrumentService(svc) : svc);
      }
      this.#log.debug({ plugin: id }, 'registered gRPC services');
    }
    this.#early.addServices(services);
    for (const rec of this.kernel.records()) {
      if (rec.status === 'ok' && isTtrpcServicePlugin(rec.instance)) rec.instance.registerTtrpc(this.#ttrpc);
    }
    await this.#early.open();
    await this.#ttrpc.listen(this.ttrpcAddress);
    await secureSocket(this.ttrpcAddress, config.ttrpc.uid, config.ttrpc.gid);
    if (metrics) await metrics.serve(config.metrics.address, this.#log);
  }

  /** stop stops serving, closes every plugin in reverse order and removes the sockets. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#log.info('stopping ctrd');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#early.forceShutdown();
        resolve();
      }, 3000);
      this.#early.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.#ttrpc.close({ timeoutMs: 3000 }).catch(() => {});
    await this.#metrics?.close();
    await this.kernel.close();
    for (const p of [this.address, this.ttrpcAddress]) await unlink(p).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function setOomScore(score: number, log: Logger): Promise<void> {
  try {
    await writeFile('/proc/self/oom_score_adj', String(score));
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not set oom_score_adj');
  }
}
