/**
 * `@ctrd/gc-scheduler` decides when the metadata store collects garbage
 * (`io.containerd.gc.v1.scheduler`): after deletions, rate-limited to a share of wall time, and
 * on demand (`scheduleAndWait`, used by `Images.Delete{sync}` and `Leases.Delete{sync}`).
 *
 * @packageDocumentation
 */
export { Scheduler, type Collectable, type SchedulerOptions } from './scheduler.js';
export { gcSchedulerPlugin, gcSchedulerPlugins, type GcSchedulerConfig } from './plugin.js';
