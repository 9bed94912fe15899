import { fromTimestamp, type Any as WireAny } from '@ctrd/api';
import type { Timestamp } from '@ctrd/api';
import { Status } from '@ctrd/api/gen/containerd/types/task/task.js';
import type { Any, Exit, ProcessStatus } from '@ctrd/runtime';

const STATUS_NAMES: Record<number, ProcessStatus> = {
  [Status.CREATED]: 'created',
  [Status.RUNNING]: 'running',
  [Status.STOPPED]: 'stopped',
  [Status.PAUSED]: 'paused',
  [Status.PAUSING]: 'pausing',
};

const STATUS_VALUES: Record<ProcessStatus, Status> = {
  unknown: Status.UNKNOWN,
  created: Status.CREATED,
  running: Status.RUNNING,
  stopped: Status.STOPPED,
  paused: Status.PAUSED,
  pausing: Status.PAUSING,
};

/** statusName converts the wire status enum to a {@link ProcessStatus}. */
export function statusName(s: Status): ProcessStatus {
  return STATUS_NAMES[s] ?? 'unknown';
}

/** statusValue converts a {@link ProcessStatus} to the wire enum. */
export function statusValue(s: ProcessStatus): Status {
  return STATUS_VALUES[s];
}

/** toExit builds an Exit from a shim's pid, status and Go-style timestamp. */
export function toExit(pid: number, status: number, exitedAt: Timestamp | undefined): Exit {
  return { pid, status, exitedAt: fromTimestamp(exitedAt) };
}

/** wireAny converts a runtime Any to the generated message shape (bytes as a Buffer). */
export function wireAny(a: Any | undefined): WireAny | undefined {
  if (a === undefined) return undefined;
  return { typeUrl: a.typeUrl, value: Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength) };
}
