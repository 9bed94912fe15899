/**
 * `@ctrd/restart-monitor` is containerd's restart monitor (`io.containerd.internal.v1.restart`):
 * every `interval` it compares each namespace's containers labelled
 * `containerd.io/restart.status` (`running` or `stopped`) with their tasks, starting a task that
 * should run and does not (from the container's spec and snapshot, with stdout and stderr sent
 * where `containerd.io/restart.loguri` or the older `containerd.io/restart.logpath` says) and
 * killing one that should be stopped.
 *
 * @packageDocumentation
 */
export { STATUS_LABEL, LOG_URI_LABEL, LOG_PATH_LABEL, desiredStatus, restartIO, type DesiredStatus } from './labels.js';
export { RestartMonitor, type RestartMonitorDeps, type RestartChange } from './monitor.js';
export { restartMonitorPlugin, restartMonitorPlugins, type RestartMonitorConfig } from './plugin.js';
