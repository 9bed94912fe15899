import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { FailedPreconditionError, NotFoundError, DeadlineExceededError } from '@ctrd/errdefs';
import { silentLogger, type Logger } from '@ctrd/log';
import { graph, requirementsOf } from './graph.js';
import { isSkipPlugin } from './errors.js';
import { validateSection } from './schema.js';
import { instanceSymbol, typeSymbol, type Token } from './token.js';
import { uriOf, type InitContext, type PluginMeta, type PluginRecord, type Registration } from './types.js';

/** KernelOptions configures a Kernel. */
export interface KernelOptions {
  registrations: readonly Registration[];
  /** URIs removed before anything initialises. */
  disabled?: readonly string[];
  /** URIs whose failure (or absence) stops start-up. */
  required?: readonly string[];
  /** raw per-plugin config sections by URI (from `[plugins."<uri>"]`). */
  configs?: Readonly<Record<string, unknown>>;
  root: string;
  state: string;
  address?: string;
  ttrpcAddress?: string;
  log?: Logger;
  /** the host platform, reported by plugins that set `hostPlatform`. */
  hostPlatform?: { os: string; architecture: string; variant?: string };
  /** longest a single init may take before it fails naming the plugin; 0 disables. */
  initTimeoutMs?: number;
  /** inits slower than this are logged at warn. */
  slowInitMs?: number;
}

/**
 * Kernel initialises plugins in graph order, keeps a record of each (status, instance, error,
 * init time) and closes them in reverse order. It owns the tsyringe container: plugins reach
 * each other only through typed tokens on their InitContext.
 */
export class Kernel {
  readonly #opts: KernelOptions;
  readonly #records: PluginRecord[] = [];
  readonly #closers: Array<{ uri: string; fn: () => Promise<void> | void }> = [];
  readonly #container: DependencyContainer;
  readonly #abort = new AbortController();
  readonly #log: Logger;
  #closed?: Promise<void>;
  #configs = new Map<string, unknown>();

  constructor(opts: KernelOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger();
    this.#container = rootContainer.createChildContainer();
    const disabled = new Set(opts.disabled ?? []);
    for (const r of graph(opts.registrations, disabled)) {
      this.#records.push({
        registration: r as Registration,
        uri: uriOf(r),
        type: r.type,
        id: r.id,
        requires: r.requires ?? [],
        meta: {
          platforms: r.platforms ? [...r.platforms] : r.hostPlatform && opts.hostPlatform ? [opts.hostPlatform] : [],
          exports: {},
          capabilities: [],
        },
        status: 'pending',
      });
    }
  }

  /**
   * validateConfigs checks every plugin's section against its schema before anything runs;
   * it throws the first error, naming the key and the plugin.
   */
  validateConfigs(): void {
    for (const rec of this.#records) {
      const cfg = rec.registration.config;
      const raw = this.#opts.configs?.[rec.uri];
      this.#configs.set(rec.uri, cfg ? validateSection(cfg.schema, cfg.defaults, raw, `[plugins."${rec.uri}"]`) : raw);
    }
  }

  /** records returns the plugin records in init order. */
  records(): readonly PluginRecord[] {
    return this.#records;
  }

  /**
   * init runs every plugin's init. A plugin starts as soon as every plugin it requires has
   * settled, so independent ones (the content store and the snapshotters, say) initialise
   * concurrently; dependents always see their requirements finished, as in containerd's
   * sequential order. A SkipPluginError marks the plugin `skip`, any other error `error`; both
   * are recorded and start-up continues, unless the plugin is required, in which case init
   * throws naming the first such plugin in init order.
   */
  async init(): Promise<void> {
    if (this.#configs.size === 0) this.validateConfigs();
    const required = new Set(this.#opts.required ?? []);
    for (const uri of required) {
      if (!this.#records.some((r) => r.uri === uri)) {
        throw new FailedPreconditionError(`required plugin ${uri} not included`);
      }
    }
    const settled = new Map<PluginRecord, Promise<void>>();
    for (const rec of this.#records) {
      // Records are in graph order, so every requirement already has its promise.
      const deps = requirementsOf(rec, this.#records).map((d) => settled.get(d)!);
      settled.set(rec, Promise.all(deps).then(() => this.#initOne(rec)));
    }
    await Promise.all(settled.values());
    for (const rec of this.#records) {
      if (rec.status !== 'ok' && required.has(rec.uri)) {
        throw new FailedPreconditionError(`load required plugin ${rec.uri}: ${rec.error?.message}`, { cause: rec.error });
      }
    }
  }

  async #initOne(rec: PluginRecord): Promise<void> {
    const log = this.#log.child({ plugin: rec.uri });
    const rootDir = join(this.#opts.root, rec.uri);
    const stateDir = join(this.#opts.state, rec.uri);
    const ic = this.#context(rec, log, rootDir, stateDir);
    const started = performance.now();
    try {
      await mkdir(rootDir, { recursive: true, mode: 0o711 });
      await mkdir(stateDir, { recursive: true, mode: 0o711 });
      rec.instance = await this.#withTimeout(rec.uri, Promise.resolve().then(() => rec.registration.init(ic)));
      rec.status = 'ok';
      this.#container.register(instanceSymbol(rec.type, rec.id), { useValue: rec.instance });
      // The type's token resolves to the first plugin of that type in init order that loaded,
      // as `get` does, whichever of them finished first.
      const byType = typeSymbol(rec.type);
      if (!this.#container.isRegistered(byType)) {
        this.#container.register(byType, { useFactory: () => this.#ok(rec.type)[0]!.instance });
      }
    } catch (err) {
      rec.error = err instanceof Error ? err : new Error(String(err));
      if (isSkipPlugin(err)) {
        rec.status = 'skip';
        log.info({ reason: rec.error.message }, 'skip loading plugin');
      } else {
        rec.status = 'error';
        log.warn({ err: rec.error.message }, 'failed to load plugin');
      }
    } finally {
      rec.initMs = performance.now() - started;
    }
    const slow = this.#opts.slowInitMs ?? 1000;
    if (rec.status === 'ok') {
      if (rec.initMs > slow) log.warn({ ms: Math.round(rec.initMs) }, 'slow plugin init');
      else log.debug({ ms: Math.round(rec.initMs * 100) / 100 }, 'loaded plugin');
    }
  }

  async #withTimeout<T>(uri: string, p: Promise<T>): Promise<T> {
    const ms = this.#opts.initTimeoutMs ?? 120_000;
    if (!ms) return p;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceededError(`plugin ${uri} did not initialise within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #ok(type: string): PluginRecord[] {
    return this.#records.filter((r) => r.type === type && r.status === 'ok');
  }

  #context(rec: PluginRecord, log: Logger, rootDir: string, stateDir: string): InitContext<unknown> {
    const kernel = this;
    const opts = this.#opts;
    return {
      registration: rec.registration,
      config: this.#configs.get(rec.uri),
      rootDir,
      stateDir,
      address: opts.address ?? '',
      ttrpcAddress: opts.ttrpcAddress ?? '',
      log,
      meta: rec.meta as PluginMeta,
      signal: this.#abort.signal,
      get<T>(token: Token<T>): T {
        const ok = kernel.#ok(token.type);
        if (ok.length > 0) return kernel.#container.resolve<T>(instanceSymbol(token.type, ok[0]!.id));
        const failed = kernel.#records.find((r) => r.type === token.type && r.error);
        if (failed) throw new FailedPreconditionError(`plugin ${failed.uri} is not loaded`, { cause: failed.error });
        throw new NotFoundError(`no plugins registered for ${token.type}`);
      },
      getByType<T>(token: Token<T>): Map<string, T> {
        return new Map(kernel.#ok(token.type).map((r) => [r.id, kernel.#container.resolve<T>(instanceSymbol(r.type, r.id))]));
      },
      getByID<T>(token: Token<T>, id: string): T {
        const r = kernel.#records.find((x) => x.type === token.type && x.id === id);
        if (!r) throw new NotFoundError(`plugin ${token.type}.${id}`);
        if (r.status !== 'ok') throw new FailedPreconditionError(`plugin ${r.uri} is not loaded`, { cause: r.error });
        return kernel.#container.resolve<T>(instanceSymbol(r.type, r.id));
      },
      plugins: () => kernel.#records,
      instantiate<T>(ctor: new (...args: never[]) => T): T {
        return kernel.#container.resolve(ctor as never) as T;
      },
      onClose(fn) {
        kernel.#closers.push({ uri: rec.uri, fn });
      },
    };
  }

  /** get returns the instance of an initialised plugin by URI. */
  instance<T>(uri: string): T | undefined {
    return this.#records.find((r) => r.uri === uri && r.status === 'ok')?.instance as T | undefined;
  }

  /** instancesOf returns every initialised instance of a type, in init order. */
  instancesOf<T>(type: string): Array<{ id: string; instance: T }> {
    return this.#ok(type).map((r) => ({ id: r.id, instance: r.instance as T }));
  }

  /**
   * close runs shutdown hooks in reverse init order: every `onClose` hook and each instance's
   * own `close()` if it has one. It is idempotent; errors are logged, never thrown.
   */
  close(): Promise<void> {
    this.#closed ??= this.#doClose();
    return this.#closed;
  }

  async #doClose(): Promise<void> {
    this.#abort.abort(new Error('daemon shutting down'));
    const steps: Array<{ uri: string; fn: () => Promise<void> | void }> = [];
    for (const rec of this.#records) {
      for (const c of this.#closers.filter((c) => c.uri === rec.uri)) steps.push(c);
      const inst = rec.instance as { close?: () => unknown } | undefined;
      if (rec.status === 'ok' && inst && typeof inst.close === 'function') steps.push({ uri: rec.uri, fn: () => inst.close!() as Promise<void> });
    }
    for (const step of steps.reverse()) {
      try {
        await step.fn();
      } catch (err) {
        this.#log.warn({ plugin: step.uri, err: (err as Error).message }, 'plugin shutdown failed');
      }
    }
    this.#container.clearInstances();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
