import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Any } from '@ctrd/api/gen/google/protobuf/any.js';
import type { Timestamp } from '@ctrd/api/gen/google/protobuf/timestamp.js';

/**
 * WIRE_TYPE_URLS are the type URLs the shim packs and unpacks. They match `@ctrd/api`'s
 * TypeUrls; the shim keeps its own copy because that module's index loads every generated
 * service, gRPC client stubs included, which a shim server has no use for.
 */
export const WIRE_TYPE_URLS = Object.freeze({
  TaskCreate: 'containerd.events.TaskCreate',
  TaskStart: 'containerd.events.TaskStart',
  TaskDelete: 'containerd.events.TaskDelete',
  TaskExit: 'containerd.events.TaskExit',
  TaskOOM: 'containerd.events.TaskOOM',
  TaskExecAdded: 'containerd.events.TaskExecAdded',
  TaskExecStarted: 'containerd.events.TaskExecStarted',
  TaskPaused: 'containerd.events.TaskPaused',
  TaskResumed: 'containerd.events.TaskResumed',
  TaskCheckpointed: 'containerd.events.TaskCheckpointed',
  RuncOptions: 'containerd.runc.v1.Options',
  RuncCheckpointOptions: 'containerd.runc.v1.CheckpointOptions',
  RuncProcessDetails: 'containerd.runc.v1.ProcessDetails',
  CgroupsV1Metrics: 'io.containerd.cgroups.v1.Metrics',
  CgroupsV2Metrics: 'io.containerd.cgroups.v2.Metrics',
});

/** GO_ZERO_TIMESTAMP is Go's zero time (year 1) as a Timestamp: what containerd sends for "no time". */
export const GO_ZERO_TIMESTAMP: Readonly<Timestamp> = Object.freeze({ seconds: -62135596800, nanos: 0 });

/** toTimestamp converts a Date or epoch milliseconds to a protobuf Timestamp. */
export function toTimestamp(value: Date | number): Timestamp {
  const ms = typeof value === 'number' ? value : value.getTime();
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return { seconds, nanos };
}

/** packAny encodes `message` with `codec` into an Any of type URL `typeUrl`. */
export function packAny<T>(typeUrl: string, codec: { encode(message: T): BinaryWriter }, message: T): Any {
  const bytes = codec.encode(message).finish();
  return { typeUrl, value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
