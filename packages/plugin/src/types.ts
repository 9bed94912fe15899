import type { Logger } from '@ctrd/log';
import type { Token } from './token.js';
import type { ConfigSchema } from './schema.js';

/**
 * PluginType names the plugin types ctrd registers, using containerd's names so that config
 * keys (`[plugins."io.containerd.snapshotter.v1.overlayfs"]`) and `ctr plugins ls` read the same.
 */
export const PluginType = {
  Internal: 'io.containerd.internal.v1',
  RuntimeV2: 'io.containerd.runtime.v2',
  Service: 'io.containerd.service.v1',
  GRPC: 'io.containerd.grpc.v1',
  TTRPC: 'io.containerd.ttrpc.v1',
  Snapshot: 'io.containerd.snapshotter.v1',
  Monitor: 'io.containerd.monitor.v1',
  Differ: 'io.containerd.differ.v1',
  Metadata: 'io.containerd.metadata.v1',
  Content: 'io.containerd.content.v1',
  GC: 'io.containerd.gc.v1',
  Event: 'io.containerd.event.v1',
  Lease: 'io.containerd.lease.v1',
  Transfer: 'io.containerd.transfer.v1',
} as const;

/** Platform is an OCI platform a plugin supports (shown by `ctr plugins ls`). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** PluginMeta is what a plugin tells introspection about itself; init may add to it. */
export interface PluginMeta {
  platforms: Platform[];
  exports: Record<string, string>;
  capabilities: string[];
}

/** PluginConfig describes a plugin's `[plugins."<uri>"]` section: its schema and defaults. */
export interface PluginConfig<C> {
  schema: ConfigSchema;
  defaults: C;
}

/**
 * Registration is a plugin as plain data: its type and ID (the URI `type.id` is also its TOML
 * key), the types it requires (`*` = every other plugin, and then the only entry), its config
 * and its init hook. Importing a module registers nothing: the daemon lists its builtins.
 */
export interface Registration<T = unknown, C = unknown> {
  type: string;
  id: string;
  requires?: readonly string[];
  config?: PluginConfig<C>;
  /** platforms this plugin serves; the host's when omitted and `hostPlatform` is set. */
  platforms?: readonly Platform[];
  /** when true the plugin reports the host platform in introspection. */
  hostPlatform?: boolean;
  init(ic: InitContext<C>): Promise<T> | T;
}

/** InitContext is what a plugin's init receives from the kernel. */
export interface InitContext<C = unknown> {
  readonly registration: Registration<unknown, C>;
  /** the validated config: defaults merged with the plugin's TOML section. */
  readonly config: C;
  /** `<root>/<type>.<id>`, created before init. */
  readonly rootDir: string;
  /** `<state>/<type>.<id>`, created before init. */
  readonly stateDir: string;
  /** the daemon's gRPC socket address and its ttrpc twin. */
  readonly address: string;
  readonly ttrpcAddress: string;
  /** a child logger carrying the plugin URI. */
  readonly log: Logger;
  /** this plugin's exports, capabilities and platforms; init may add to them. */
  readonly meta: PluginMeta;
  /** get returns the first initialised plugin of the token's type, or throws NotFound. */
  get<T>(token: Token<T>): T;
  /** getByType returns every initialised plugin of the token's type, keyed by ID. */
  getByType<T>(token: Token<T>): Map<string, T>;
  /** getByID returns the plugin of the token's type with the given ID, or throws NotFound. */
  getByID<T>(token: Token<T>, id: string): T;
  /** plugins returns the records of every plugin the kernel knows, in init order. */
  plugins(): readonly PluginRecord[];
  /** instantiate builds a class whose constructor parameters carry `@injectToken(...)`. */
  instantiate<T>(ctor: new (...args: never[]) => T): T;
  /** onClose registers a shutdown hook, run in reverse init order. */
  onClose(fn: () => Promise<void> | void): void;
  /** signal aborts when the daemon shuts down. */
  readonly signal: AbortSignal;
}

/** PluginStatus is the state introspection shows: `ok`, `skip` or `error` (`pending` before init). */
export type PluginStatus = 'pending' | 'ok' | 'skip' | 'error';

/** PluginRecord is the kernel's record of one plugin, kept even when its init failed. */
export interface PluginRecord {
  readonly registration: Registration;
  readonly uri: string;
  readonly type: string;
  readonly id: string;
  readonly requires: readonly string[];
  readonly meta: PluginMeta;
  status: PluginStatus;
  instance?: unknown;
  error?: Error;
  /** init duration in milliseconds. */
  initMs?: number;
}

/** uriOf returns a registration's URI, `<type>.<id>`. */
export function uriOf(r: { type: string; id: string }): string {
  return `${r.type}.${r.id}`;
}

/** MetricFamily is one Prometheus metric family a plugin reports at scrape time. */
export interface MetricFamily {
  /** name without the `ctrd_` prefix, snake_case. */
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

/**
 * MetricsProvider is implemented by plugin instances that report metrics; the daemon calls
 * `collectMetrics` on each scrape of `/v1/metrics`.
 */
export interface MetricsProvider {
  collectMetrics(): Promise<MetricFamily[]> | MetricFamily[];
}

/** isMetricsProvider reports whether a plugin instance reports metrics. */
export function isMetricsProvider(x: unknown): x is MetricsProvider {
  return typeof x === 'object' && x !== null && typeof (x as MetricsProvider).collectMetrics === 'function';
}
