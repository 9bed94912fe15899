import { status, Metadata, type ServiceError } from '@grpc/grpc-js';
import { codeOf, messageWithSuffix, newError, stripSuffix, type CtrdError, type ErrorCode } from '@ctrd/errdefs';

const TO_GRPC: Readonly<Record<ErrorCode, status>> = {
  UNKNOWN: status.UNKNOWN,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  UNAVAILABLE: status.UNAVAILABLE,
  NOT_IMPLEMENTED: status.UNIMPLEMENTED,
  CANCELED: status.CANCELLED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  OUT_OF_RANGE: status.OUT_OF_RANGE,
  DATA_LOSS: status.DATA_LOSS,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

const FROM_GRPC = new Map<number, ErrorCode>(Object.entries(TO_GRPC).map(([k, v]) => [v, k as ErrorCode]));

/** grpcCodeOf maps an error's errdefs class to a gRPC status code. */
export function grpcCodeOf(err: unknown): status {
  return TO_GRPC[codeOf(err)];
}

/** errorCodeOfGrpc maps a gRPC status code to an errdefs class (anything unmapped is UNKNOWN). */
export function errorCodeOfGrpc(code: number): ErrorCode {
  return FROM_GRPC.get(code) ?? 'UNKNOWN';
}

/**
 * toServiceError turns any error into the status a gRPC handler returns: the errdefs class
 * becomes the code and the message carries containerd's `: <class>` suffix, as ctr expects.
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  return { code: grpcCodeOf(err), details: messageWithSuffix(err), metadata: new Metadata() };
}

/**
 * fromServiceError turns a gRPC client error back into the errdefs class for its code, with
 * containerd's suffix stripped from the message and the original kept as `cause`.
 */
export function fromServiceError(err: unknown): CtrdError {
  const e = err as Partial<ServiceError>;
  const code = typeof e.code === 'number' ? errorCodeOfGrpc(e.code) : 'UNKNOWN';
  const raw = typeof e.details === 'string' && e.details !== '' ? e.details : (e.message ?? String(err));
  return newError(code, stripSuffix(code, raw), { cause: err });
}
