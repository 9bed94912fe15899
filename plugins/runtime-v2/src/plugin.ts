import { timeouts, TIMEOUT_KEYS } from '@ctrd/config';
import { Exchange } from '@ctrd/events';
import type { GrpcServicePlugin } from '@ctrd/grpc';
import { MetadataStore } from '@ctrd/metadata';
import { definePlugin, parseDuration, PluginType } from '@ctrd/plugin';
import { PlatformRuntime } from '@ctrd/runtime';
import { runcOptionsFromConfig } from './runtime-options.js';
import { DEFAULT_RUNTIME, TaskManager, type RuntimeEntry } from './task-manager.js';
import { tasksService } from './tasks-service.js';

/** RuntimeV2Config is the `[plugins."io.containerd.runtime.v2.task"]` section. */
export interface RuntimeV2Config {
  /** runtime name → shim binary and options (`[plugins."…task".runtimes."io.containerd.runc.v2"]`). */
  runtimes: Record<string, { binary?: string; options?: Record<string, string> }>;
  default_runtime: string;
  shim_debug: boolean;
  /** oom_score_adj given to every shim; 0 leaves the shim's own. */
  oom_score: number;
  /** how long ctrd's shim server for a namespace stays up once its last task is gone. */
  shim_idle_exit: string;
  platforms: string[];
}

/**
 * runtimeV2Plugin is `io.containerd.runtime.v2.task`: the {@link TaskManager}. On start it recovers
 * the tasks left by an earlier run; at shutdown it lets go of the shims without stopping them.
 */
export const runtimeV2Plugin = definePlugin<TaskManager, RuntimeV2Config>({
  type: PluginType.RuntimeV2,
  id: 'task',
  requires: [PluginType.Event, PluginType.Metadata],
  hostPlatform: true,
  config: {
    schema: {
      runtimes: {
        type: 'tables',
        doc: 'shim binaries and options by runtime name; other names map to containerd-shim-<name>-<version>',
        fields: {
          binary: { type: 'string', doc: 'shim executable: an absolute path or a name searched on PATH' },
          options: { type: 'map', doc: 'runc shim options, keys as in containerd.runc.v1.Options (binary_name, root, systemd_cgroup, …)' },
        },
      },
      default_runtime: { type: 'string', doc: 'runtime for containers that name none' },
      shim_debug: { type: 'boolean', doc: 'start shims with -debug' },
      oom_score: { type: 'integer', doc: 'oom_score_adj for shim processes (0: leave as is)', min: -1000, max: 1000 },
      shim_idle_exit: {
        type: 'duration',
        doc: 'how long a shim server of io.containerd.ctrd.v1 (one per namespace) stays up without tasks before it exits; the next task boots it again',
      },
      platforms: { type: 'string[]', doc: 'platforms this runtime supports' },
    },
    defaults: { runtimes: {}, default_runtime: DEFAULT_RUNTIME, shim_debug: false, oom_score: 0, shim_idle_exit: '30s', platforms: [] },
  },
  async init(ic) {
    let publisher: Exchange | undefined;
    let metadata: MetadataStore | undefined;
    try {
      publisher = ic.get(Exchange);
    } catch {
      publisher = undefined;
    }
    try {
      metadata = ic.get(MetadataStore);
    } catch {
      metadata = undefined;
    }
    const runtimes: Record<string, RuntimeEntry> = {};
    for (const [name, r] of Object.entries(ic.config.runtimes)) {
      const options = runcOptionsFromConfig(r.options);
      runtimes[name] = { ...(r.binary ? { binary: r.binary } : {}), ...(options ? { options } : {}) };
    }
    const manager = new TaskManager({
      stateDir: ic.stateDir,
      rootDir: ic.rootDir,
      address: ic.address,
      ttrpcAddress: ic.ttrpcAddress,
      ...(publisher ? { publisher } : {}),
      runtimes,
      shimDebug: ic.config.shim_debug,
      ...(ic.config.oom_score !== 0 ? { shimOomScoreAdj: ic.config.oom_score } : {}),
      shimIdleExitMs: parseDuration(ic.config.shim_idle_exit),
      defaultRuntime: ic.config.default_runtime,
      ...(metadata
        ? { containerRuntime: async (ns: string, id: string) => (await metadata.containers.get(ns, id)).runtime.name }
        : {}),
      log: ic.log,
      // [timeouts], as containerd's runtime reads them.
      loadTimeoutMs: timeouts().get(TIMEOUT_KEYS.shimLoad),
      cleanupTimeoutMs: timeouts().get(TIMEOUT_KEYS.shimCleanup),
      shutdownTimeoutMs: timeouts().get(TIMEOUT_KEYS.shimShutdown),
      stateTimeoutMs: timeouts().get(TIMEOUT_KEYS.taskState),
    });
    await manager.load();
    ic.onClose(() => manager.close());
    return manager;
  },
});

/**
 * tasksPlugin is `io.containerd.grpc.v1.tasks`: the Tasks gRPC service over the runtime v2 task
 * manager, with containers looked up in metadata and checkpoints kept in its content store.
 */
export const tasksPlugin = definePlugin<GrpcServicePlugin>({
  type: PluginType.GRPC,
  id: 'tasks',
  requires: [PluginType.RuntimeV2, PluginType.Metadata, PluginType.Event],
  init(ic) {
    const runtime = ic.get(PlatformRuntime);
    const metadata = ic.get(MetadataStore);
    const defaultRuntime = runtime instanceof TaskManager ? runtime.defaultRuntime : DEFAULT_RUNTIME;
    const service = tasksService({
      runtime,
      containers: metadata.containers,
      content: (ns, lease) => metadata.content(ns, lease ? { lease } : {}),
      defaultRuntime,
    });
    return { grpcServices: () => [service] };
  },
});

/** runtimeV2Plugins lists this package's registrations, for the daemon's builtins. */
export const runtimeV2Plugins = [runtimeV2Plugin, tasksPlugin];
