import type { TaskIO } from '@ctrd/runtime';

/** STATUS_LABEL is the container label naming the status the restart monitor keeps its task in. */
export const STATUS_LABEL = 'containerd.io/restart.status';
/** LOG_URI_LABEL is the container label naming where a restarted task's output goes (`file://…`, `binary://…`). */
export const LOG_URI_LABEL = 'containerd.io/restart.loguri';
/**
 * LOG_PATH_LABEL is the older container label naming a file for a restarted task's output;
 * containerd 1.5 deprecated it in favour of {@link LOG_URI_LABEL}, which wins when both are set.
 */
export const LOG_PATH_LABEL = 'containerd.io/restart.logpath';

/** DesiredStatus is a status the monitor acts on; other label values are left alone, as containerd does. */
export type DesiredStatus = 'running' | 'stopped';

/** desiredStatus reads a container's {@link STATUS_LABEL}; undefined when absent or not one the monitor acts on. */
export function desiredStatus(labels: Readonly<Record<string, string>>): DesiredStatus | undefined {
  const v = labels[STATUS_LABEL];
  return v === 'running' || v === 'stopped' ? v : undefined;
}

/**
 * restartIO is the stdio of a task the monitor starts: nothing (containerd's null IO) unless a
 * log label names a destination, in which case stdout and stderr both go there. A bare log path
 * becomes a `file://` URI: both shims append to it, as containerd's log-file IO does.
 *
 * @throws Error for a {@link LOG_URI_LABEL} that is not a URL.
 */
export function restartIO(labels: Readonly<Record<string, string>>): TaskIO {
  const uri = labels[LOG_URI_LABEL] ?? '';
  const path = labels[LOG_PATH_LABEL] ?? '';
  let target = '';
  if (uri !== '') {
    target = new URL(uri).toString();
  } else if (path !== '') {
    target = new URL(`file://${path}`).toString();
  }
  return { stdin: '', stdout: target, stderr: target, terminal: false };
}
