import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Timestamp } from './gen/google/protobuf/timestamp.js';

/**
 * GO_ZERO_TIME_SECONDS is Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds.
 * containerd encodes an unset non-nullable time, such as `exited_at` of a running process, as
 * this value rather than leaving the field out.
 */
export const GO_ZERO_TIME_SECONDS = -62135596800;

/** GO_ZERO_TIMESTAMP is Go's zero time as a Timestamp: what to send for "no time". */
export const GO_ZERO_TIMESTAMP: Readonly<Timestamp> = Object.freeze({ seconds: GO_ZERO_TIME_SECONDS, nanos: 0 });

/**
 * toTimestamp converts a Date or a count of milliseconds since the Unix epoch (fractions keep
 * sub-millisecond precision) to a Timestamp with `0 <= nanos < 1e9`.
 *
 * @throws InvalidArgumentError for an invalid Date or a non-finite number.
 */
export function toTimestamp(value: Date | number): Timestamp {
  const ms = typeof value === 'number' ? value : value.getTime();
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`invalid time ${String(value)}`);
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return { seconds, nanos };
}

/** isUnsetTimestamp reports whether `ts` is absent or Go's zero time. */
export function isUnsetTimestamp(ts: Timestamp | undefined): boolean {
  return ts === undefined || (ts.seconds === GO_ZERO_TIME_SECONDS && ts.nanos === 0);
}

/**
 * fromTimestamp converts a Timestamp to a Date (millisecond precision), or `undefined` when it is
 * absent or Go's zero time.
 */
export function fromTimestamp(ts: Timestamp | undefined): Date | undefined {
  if (ts === undefined || isUnsetTimestamp(ts)) return undefined;
  return new Date(ts.seconds * 1000 + Math.floor(ts.nanos / 1e6));
}
