import type { ConfigSchema } from '@ctrd/plugin/schema';
import { DEFAULT_TIMEOUTS } from './timeouts.js';

/** GrpcConfig is the `[grpc]` section. */
export interface GrpcConfig {
  address: string;
  tcp_address: string;
  uid: number;
  gid: number;
  max_recv_message_size: number;
  max_send_message_size: number;
  busy_poll_us: number;
  /** which server answers on the socket: ctrd's own HTTP/2 and gRPC, or grpc-js on node:http2. */
  server: 'ctrd' | 'grpc-js';
}

/**
 * DEFAULT_BUSY_POLL_US is how long the daemon keeps polling for a client's next call after each
 * answer (see `@ctrd/grpc`'s busy-poll): long enough for `ctr`'s turnaround between two calls
 * (50–150 µs measured), short enough that a lone call costs little CPU.
 */
export const DEFAULT_BUSY_POLL_US = 200;

/** TtrpcConfig is the `[ttrpc]` section. */
export interface TtrpcConfig {
  address: string;
  uid: number;
  gid: number;
}

/** DebugConfig is the `[debug]` section. */
export interface DebugConfig {
  address: string;
  uid: number;
  gid: number;
  level: string;
  format: 'json' | 'text';
}

/** MetricsConfig is the `[metrics]` section. */
export interface MetricsConfig {
  address: string;
  grpc_histogram: boolean;
}

/**
 * ProxyPluginType is what `type` of a `[proxy_plugins.<name>]` table may say: the short names
 * or the full plugin types, as containerd 1.6 accepts both.
 */
export type ProxyPluginType = 'snapshot' | 'content' | 'io.containerd.snapshotter.v1' | 'io.containerd.content.v1';

/** PROXY_PLUGIN_TYPES lists every accepted {@link ProxyPluginType}. */
export const PROXY_PLUGIN_TYPES: readonly ProxyPluginType[] = ['snapshot', 'content', 'io.containerd.snapshotter.v1', 'io.containerd.content.v1'];

/** ProxyPluginConfig is one `[proxy_plugins.<name>]` table. */
export interface ProxyPluginConfig {
  type: ProxyPluginType;
  address: string;
  /** accepted as containerd 1.7 reads it; the host platform when absent. */
  platform?: string;
}

/** DaemonConfig is the whole parsed and validated config file. */
export interface DaemonConfig {
  version: number;
  root: string;
  state: string;
  temp: string;
  disabled_plugins: string[];
  required_plugins: string[];
  oom_score: number;
  imports: string[];
  plugin_dir: string;
  plugins_packages: string[];
  grpc: GrpcConfig;
  ttrpc: TtrpcConfig;
  debug: DebugConfig;
  metrics: MetricsConfig;
  cgroup: { path: string };
  timeouts: Record<string, string>;
  proxy_plugins: Record<string, ProxyPluginConfig>;
  /** raw per-plugin sections keyed by URI; each plugin validates its own. */
  plugins: Record<string, unknown>;
}

/** DEFAULT_ADDRESS is the default gRPC socket. */
export const DEFAULT_ADDRESS = '/run/ctrd/ctrd.sock';
/** DEFAULT_CONFIG_PATH is read when no `--config` is given and the file exists. */
export const DEFAULT_CONFIG_PATH = '/etc/ctrd/config.toml';

/** defaultConfig returns a fresh copy of the built-in top-level defaults (no plugin sections). */
export function defaultConfig(): DaemonConfig {
  return {
    version: 2,
    root: '/var/lib/ctrd',
    state: '/run/ctrd',
    temp: '',
    disabled_plugins: [],
    required_plugins: [],
    oom_score: 0,
    imports: [],
    plugin_dir: '',
    plugins_packages: [],
    grpc: {
      address: DEFAULT_ADDRESS,
      tcp_address: '',
      uid: 0,
      gid: 0,
      max_recv_message_size: 16 * 1024 * 1024,
      max_send_message_size: 16 * 1024 * 1024,
      busy_poll_us: DEFAULT_BUSY_POLL_US,
      server: 'ctrd',
    },
    ttrpc: { address: '', uid: 0, gid: 0 },
    debug: { address: '', uid: 0, gid: 0, level: 'info', format: 'text' },
    metrics: { address: '', grpc_histogram: false },
    cgroup: { path: '' },
    timeouts: { ...DEFAULT_TIMEOUTS },
    proxy_plugins: {},
    plugins: {},
  };
}

const id = { type: 'integer', min: 0 } as const;

/** TOP_SCHEMA describes every top-level key; `plugins` is checked per plugin instead. */
export const TOP_SCHEMA: ConfigSchema = {
  version: { type: 'integer', doc: 'Config format version; ctrd reads version 2, as containerd 1.6 does.', min: 2, max: 2 },
  root: { type: 'string', doc: 'Persistent data: content, metadata, snapshots. Each plugin gets <root>/<plugin URI>.' },
  state: { type: 'string', doc: 'Runtime state that does not survive a reboot: sockets, bundles. Each plugin gets <state>/<plugin URI>.' },
  temp: { type: 'string', doc: 'Directory for temporary mounts and files; empty uses <root>/tmpmounts and the system temp dir.' },
  disabled_plugins: { type: 'string[]', doc: 'Plugin URIs removed before anything initialises, e.g. "io.containerd.snapshotter.v1.btrfs".' },
  required_plugins: { type: 'string[]', doc: 'Plugin URIs that must load; if one fails (or is missing) ctrd exits naming it.' },
  oom_score: { type: 'integer', doc: 'oom_score_adj for the daemon (-1000 to 1000); 0 leaves it alone.', min: -1000, max: 1000 },
  imports: { type: 'string[]', doc: 'Further TOML files merged into this one, in order (paths relative to this file).' },
  plugin_dir: { type: 'string', doc: 'Directory whose node_modules the plugins_packages are resolved from; empty uses ctrd\'s own.' },
  plugins_packages: { type: 'string[]', doc: 'npm packages whose exported plugin registrations are loaded as extra plugins.' },
  grpc: {
    type: 'table',
    doc: 'The containerd-compatible gRPC API.',
    fields: {
      address: { type: 'string', doc: 'Unix socket the gRPC API listens on (mode 0660, directory created).' },
      tcp_address: { type: 'string', doc: 'Unused; accepted for compatibility with containerd configs.' },
      uid: { ...id, doc: 'Owner uid of the socket.' },
      gid: { ...id, doc: 'Owner gid of the socket; members of this group may use the API.' },
      max_recv_message_size: { type: 'integer', min: 1, doc: 'Largest gRPC message accepted, in bytes.' },
      max_send_message_size: { type: 'integer', min: 1, doc: 'Largest gRPC message sent, in bytes.' },
      busy_poll_us: {
        type: 'integer',
        min: 0,
        max: 100_000,
        doc: 'After each answer, keep polling for the next call for this many microseconds before the event loop sleeps: '
          + 'a client making calls one after the other then does not wait for a sleeping CPU to wake (Go\'s runtime, '
          + 'containerd\'s, spins likewise). Spends CPU for latency; 0 turns it off.',
      },
      server: {
        type: 'string',
        enum: ['ctrd', 'grpc-js'],
        doc: 'What answers on the socket: "ctrd", the daemon\'s own HTTP/2 and gRPC (about half the CPU per call), '
          + 'or "grpc-js" on Node\'s HTTP/2. Both serve the same API the same way.',
      },
    },
  },
  ttrpc: {
    type: 'table',
    doc: 'The ttrpc socket that shims publish events to.',
    fields: {
      address: { type: 'string', doc: 'Unix socket; empty means "<grpc.address>.ttrpc".' },
      uid: { ...id, doc: 'Owner uid of the socket.' },
      gid: { ...id, doc: 'Owner gid of the socket.' },
    },
  },
  debug: {
    type: 'table',
    doc: 'Logging and debugging.',
    fields: {
      address: { type: 'string', doc: 'Unused; accepted for compatibility with containerd configs.' },
      uid: { ...id, doc: 'Unused; accepted for compatibility.' },
      gid: { ...id, doc: 'Unused; accepted for compatibility.' },
      level: { type: 'string', doc: 'Log level: trace, debug, info, warn, error, fatal or panic.', enum: ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic'] },
      format: { type: 'string', doc: 'Log format: "text" (one readable line per entry) or "json".', enum: ['json', 'text'] },
    },
  },
  metrics: {
    type: 'table',
    doc: 'Prometheus metrics.',
    fields: {
      address: { type: 'string', doc: 'TCP address (host:port) serving Prometheus text on /v1/metrics; empty disables it.' },
      grpc_histogram: { type: 'boolean', doc: 'Record gRPC latency histograms.' },
    },
  },
  cgroup: {
    type: 'table',
    doc: 'The daemon\'s own cgroup.',
    fields: { path: { type: 'string', doc: 'cgroup path to move the daemon into; empty leaves it where it started.' } },
  },
  timeouts: {
    type: 'map',
    doc: 'Named timeouts as Go durations, laid over the defaults key by key as containerd reads them: '
      + 'bolt.open (opening the metadata database, 0s = wait forever), shim.load (reconnecting to a shim at start-up), '
      + 'shim.cleanup (`<shim> delete` of a gone shim), shim.shutdown (the Shutdown call to a shim), '
      + 'task.state (the State call per task), each prefixed "io.containerd.timeout.".',
  },
  proxy_plugins: {
    type: 'tables',
    doc: 'Out-of-process plugins served over containerd\'s gRPC API on a unix socket.',
    fields: {
      type: {
        type: 'string',
        doc: 'Plugin kind: "snapshot" (registers io.containerd.snapshotter.v1.<name>) or "content" (io.containerd.content.v1.<name>); the full type names are accepted too.',
        enum: PROXY_PLUGIN_TYPES,
      },
      address: { type: 'string', doc: 'Unix socket of the plugin\'s gRPC server (containerd\'s Snapshots or Content service); dialled on first use.' },
      platform: { type: 'string', doc: 'Platform the plugin serves, e.g. "linux/amd64"; the host\'s when empty.' },
    },
  },
};
