/**
 * Conversion between errdefs classes and the gRPC status codes ttrpc carries in `google.rpc.Status`.
 */
import { type CtrdError, type ErrorCode, codeOf, messageWithSuffix, newError, stripSuffix } from '@ctrd/errdefs';
import type { RpcStatus } from './messages.js';

/** StatusCode names the gRPC status codes that ttrpc uses. */
export const StatusCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

const TO_STATUS: Readonly<Record<ErrorCode, number>> = {
  UNKNOWN: StatusCode.Unknown,
  INVALID_ARGUMENT: StatusCode.InvalidArgument,
  NOT_FOUND: StatusCode.NotFound,
  ALREADY_EXISTS: StatusCode.AlreadyExists,
  FAILED_PRECONDITION: StatusCode.FailedPrecondition,
  UNAVAILABLE: StatusCode.Unavailable,
  NOT_IMPLEMENTED: StatusCode.Unimplemented,
  CANCELED: StatusCode.Canceled,
  DEADLINE_EXCEEDED: StatusCode.DeadlineExceeded,
  OUT_OF_RANGE: StatusCode.OutOfRange,
  DATA_LOSS: StatusCode.DataLoss,
  PERMISSION_DENIED: StatusCode.PermissionDenied,
  RESOURCE_EXHAUSTED: StatusCode.ResourceExhausted,
};

const FROM_STATUS: ReadonlyMap<number, ErrorCode> = new Map(
  (Object.entries(TO_STATUS) as [ErrorCode, number][]).map(([code, status]) => [status, code]),
);

/** statusCodeOf returns the gRPC status code for an error's errdefs class. */
export function statusCodeOf(err: unknown): number {
  return TO_STATUS[codeOf(err)];
}

/** statusFromError renders a thrown error as a status: class code and containerd-style message. */
export function statusFromError(err: unknown): RpcStatus {
  return { code: statusCodeOf(err), message: messageWithSuffix(err) };
}

/** errorCodeOf maps a gRPC status code to its errdefs class; codes with no class become `UNKNOWN`. */
export function errorCodeOf(status: number): ErrorCode {
  return FROM_STATUS.get(status) ?? 'UNKNOWN';
}

/**
 * errorFromStatus rebuilds the errdefs error for a non-OK status, with the `: <class>` suffix
 * the sender appended taken off again.
 */
export function errorFromStatus(status: RpcStatus): CtrdError {
  const code = errorCodeOf(status.code);
  return newError(code, stripSuffix(code, status.message));
}
