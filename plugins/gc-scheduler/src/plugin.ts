import { MetadataStore } from '@ctrd/metadata';
import { definePlugin, parseDuration, PluginType } from '@ctrd/plugin';
import { Scheduler } from './scheduler.js';

/** GcSchedulerConfig is the `[plugins."io.containerd.gc.v1.scheduler"]` section, with containerd's keys. */
export interface GcSchedulerConfig {
  pause_threshold: number;
  deletion_threshold: number;
  mutation_threshold: number;
  schedule_delay: string;
  startup_delay: string;
}

/**
 * gcSchedulerPlugin is `io.containerd.gc.v1.scheduler`: it runs the metadata store's garbage
 * collection after deletions, rate-limited by `pause_threshold`, and on demand.
 */
export const gcSchedulerPlugin = definePlugin<Scheduler, GcSchedulerConfig>({
  type: PluginType.GC,
  id: 'scheduler',
  requires: [PluginType.Metadata],
  config: {
    schema: {
      pause_threshold: { type: 'number', doc: 'largest share of time spent in garbage collection (0.02 = 2%)', min: 0, max: 0.5 },
      deletion_threshold: { type: 'integer', doc: 'deletions that force a collection; 0 = any deletion schedules one, rate-limited', min: 0 },
      mutation_threshold: { type: 'integer', doc: 'database changes that schedule a collection; 0 = never', min: 0 },
      schedule_delay: { type: 'duration', doc: 'delay between a trigger and its collection' },
      startup_delay: { type: 'duration', doc: 'delay before the first collection after start' },
    },
    defaults: { pause_threshold: 0.02, deletion_threshold: 0, mutation_threshold: 100, schedule_delay: '0s', startup_delay: '100ms' },
  },
  init(ic) {
    const c = ic.config;
    const scheduler = new Scheduler(ic.get(MetadataStore), {
      pauseThreshold: c.pause_threshold,
      deletionThreshold: c.deletion_threshold,
      mutationThreshold: c.mutation_threshold,
      scheduleDelayMs: parseDuration(c.schedule_delay),
      startupDelayMs: parseDuration(c.startup_delay),
      onError: (err) => ic.log.error({ err: (err as Error).message }, 'garbage collection failed'),
      onCollected: (stats) =>
        ic.log.debug({ ms: round2(stats.totalMs), metaMs: round2(stats.metaMs), removed: stats.removed, backend: stats.backend }, 'garbage collected'),
    });
    ic.onClose(() => scheduler.close());
    return scheduler;
  },
});

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** gcSchedulerPlugins lists this package's plugin registrations, for the daemon's builtins. */
export const gcSchedulerPlugins = [gcSchedulerPlugin];
