/**
 * `@ctrd/errdefs` is ctrd's one closed error taxonomy.
 *
 * Every store, plugin and service throws one of the classes below (or wraps a lower error in one
 * with `{ cause }`). Only the gRPC edge (`@ctrd/grpc`) turns a class into a status code, and turns
 * a status code back into a class in the client, so a NotFound raised in a store is a NotFound in
 * the caller on the other side of the socket.
 *
 * Checks use the predicates (`isNotFound(err)` …), which walk the `cause` chain and recognise the
 * classes by a `Symbol.for` brand, so they hold even when two copies of this package are loaded.
 *
 * @packageDocumentation
 */

const kErrdefsCode = Symbol.for('ctrd.errdefs.code');

/** ErrorCode is the closed set of error classes, each with a stable string code. */
export type ErrorCode =
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'CANCELED'
  | 'DEADLINE_EXCEEDED'
  | 'OUT_OF_RANGE'
  | 'DATA_LOSS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED';

/** ERROR_CODES lists every code, for exhaustive tables and tests. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'UNAVAILABLE',
  'NOT_IMPLEMENTED',
  'CANCELED',
  'DEADLINE_EXCEEDED',
  'OUT_OF_RANGE',
  'DATA_LOSS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
];

/**
 * ERROR_SUFFIX is the text containerd appends to a message of each class (`image "x": not found`).
 * The gRPC edge appends it on the way out and the client strips it on the way in.
 */
export const ERROR_SUFFIX: Readonly<Record<ErrorCode, string>> = {
  UNKNOWN: 'unknown',
  INVALID_ARGUMENT: 'invalid argument',
  NOT_FOUND: 'not found',
  ALREADY_EXISTS: 'already exists',
  FAILED_PRECONDITION: 'failed precondition',
  UNAVAILABLE: 'unavailable',
  NOT_IMPLEMENTED: 'not implemented',
  CANCELED: 'context canceled',
  DEADLINE_EXCEEDED: 'context deadline exceeded',
  OUT_OF_RANGE: 'out of range',
  DATA_LOSS: 'data loss',
  PERMISSION_DENIED: 'permission denied',
  RESOURCE_EXHAUSTED: 'resource exhausted',
};

/** ErrorOptions for every class: an optional lower error kept as `cause`. */
export interface CtrdErrorOptions {
  cause?: unknown;
}

/** CtrdError is the base of every class in the taxonomy; `code` names the class. */
export class CtrdError extends Error {
  readonly code: ErrorCode;
  readonly [kErrdefsCode]: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: CtrdErrorOptions) {
    super(message, options);
    this.code = code;
    this[kErrdefsCode] = code;
  }

  override get name(): string {
    return CLASS_NAMES[this.code];
  }
}

/** UnknownError is an error of no other class. */
export class UnknownError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('UNKNOWN', message, options);
  }
}
/** InvalidArgumentError: the request itself is malformed (gRPC InvalidArgument). */
export class InvalidArgumentError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}
/** NotFoundError: the named object does not exist (gRPC NotFound). */
export class NotFoundError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}
/** AlreadyExistsError: an object with that name exists (gRPC AlreadyExists). */
export class AlreadyExistsError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('ALREADY_EXISTS', message, options);
  }
}
/** FailedPreconditionError: the system is not in a state that allows the call (gRPC FailedPrecondition). */
export class FailedPreconditionError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('FAILED_PRECONDITION', message, options);
  }
}
/** UnavailableError: the resource is busy or the service is down; retry later (gRPC Unavailable). */
export class UnavailableError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}
/** NotImplementedError: the call is not supported by this implementation (gRPC Unimplemented). */
export class NotImplementedError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('NOT_IMPLEMENTED', message, options);
  }
}
/** CanceledError: the caller gave up (gRPC Cancelled). */
export class CanceledError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('CANCELED', message, options);
  }
}
/** DeadlineExceededError: the call ran out of time (gRPC DeadlineExceeded). */
export class DeadlineExceededError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('DEADLINE_EXCEEDED', message, options);
  }
}
/** OutOfRangeError: an offset or size past the valid range (gRPC OutOfRange). */
export class OutOfRangeError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('OUT_OF_RANGE', message, options);
  }
}
/** DataLossError: stored data is damaged or a write came up short (gRPC DataLoss). */
export class DataLossError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('DATA_LOSS', message, options);
  }
}
/** PermissionDeniedError: the caller may not do this (gRPC PermissionDenied). */
export class PermissionDeniedError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('PERMISSION_DENIED', message, options);
  }
}
/** ResourceExhaustedError: a limit was hit (gRPC ResourceExhausted). */
export class ResourceExhaustedError extends CtrdError {
  constructor(message: string, options?: CtrdErrorOptions) {
    super('RESOURCE_EXHAUSTED', message, options);
  }
}

const CLASS_NAMES: Readonly<Record<ErrorCode, string>> = {
  UNKNOWN: 'UnknownError',
  INVALID_ARGUMENT: 'InvalidArgumentError',
  NOT_FOUND: 'NotFoundError',
  ALREADY_EXISTS: 'AlreadyExistsError',
  FAILED_PRECONDITION: 'FailedPreconditionError',
  UNAVAILABLE: 'UnavailableError',
  NOT_IMPLEMENTED: 'NotImplementedError',
  CANCELED: 'CanceledError',
  DEADLINE_EXCEEDED: 'DeadlineExceededError',
  OUT_OF_RANGE: 'OutOfRangeError',
  DATA_LOSS: 'DataLossError',
  PERMISSION_DENIED: 'PermissionDeniedError',
  RESOURCE_EXHAUSTED: 'ResourceExhaustedError',
};

const CONSTRUCTORS: Readonly<Record<ErrorCode, new (m: string, o?: CtrdErrorOptions) => CtrdError>> = {
  UNKNOWN: UnknownError,
  INVALID_ARGUMENT: InvalidArgumentError,
  NOT_FOUND: NotFoundError,
  ALREADY_EXISTS: AlreadyExistsError,
  FAILED_PRECONDITION: FailedPreconditionError,
  UNAVAILABLE: UnavailableError,
  NOT_IMPLEMENTED: NotImplementedError,
  CANCELED: CanceledError,
  DEADLINE_EXCEEDED: DeadlineExceededError,
  OUT_OF_RANGE: OutOfRangeError,
  DATA_LOSS: DataLossError,
  PERMISSION_DENIED: PermissionDeniedError,
  RESOURCE_EXHAUSTED: ResourceExhaustedError,
};

/** newError builds the class for `code`; the client uses it to rebuild errors from status codes. */
export function newError(code: ErrorCode, message: string, options?: CtrdErrorOptions): CtrdError {
  return new CONSTRUCTORS[code](message, options);
}

function ownCode(err: unknown): ErrorCode | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const c = (err as { [kErrdefsCode]?: unknown })[kErrdefsCode];
  if (typeof c === 'string') return c as ErrorCode;
  const name = (err as { name?: unknown }).name;
  if (name === 'AbortError') return 'CANCELED';
  return undefined;
}

/**
 * codeOf returns the class of the first error in the `cause` chain that has one, or `UNKNOWN`.
 * An `AbortError` (from an AbortSignal) counts as CANCELED.
 */
export function codeOf(err: unknown): ErrorCode {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== null && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    const c = ownCode(cur);
    if (c !== undefined) return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'UNKNOWN';
}

/** is reports whether `err` or any error in its `cause` chain is of class `code`. */
export function is(err: unknown, code: ErrorCode): boolean {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur !== null && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    if (ownCode(cur) === code) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** isNotFound reports a NotFound anywhere in the cause chain. */
export const isNotFound = (err: unknown): boolean => is(err, 'NOT_FOUND');
/** isAlreadyExists reports an AlreadyExists anywhere in the cause chain. */
export const isAlreadyExists = (err: unknown): boolean => is(err, 'ALREADY_EXISTS');
/** isInvalidArgument reports an InvalidArgument anywhere in the cause chain. */
export const isInvalidArgument = (err: unknown): boolean => is(err, 'INVALID_ARGUMENT');
/** isFailedPrecondition reports a FailedPrecondition anywhere in the cause chain. */
export const isFailedPrecondition = (err: unknown): boolean => is(err, 'FAILED_PRECONDITION');
/** isUnavailable reports an Unavailable anywhere in the cause chain. */
export const isUnavailable = (err: unknown): boolean => is(err, 'UNAVAILABLE');
/** isNotImplemented reports a NotImplemented anywhere in the cause chain. */
export const isNotImplemented = (err: unknown): boolean => is(err, 'NOT_IMPLEMENTED');
/** isCanceled reports a Canceled (or an AbortError) anywhere in the cause chain. */
export const isCanceled = (err: unknown): boolean => is(err, 'CANCELED');
/** isDeadlineExceeded reports a DeadlineExceeded anywhere in the cause chain. */
export const isDeadlineExceeded = (err: unknown): boolean => is(err, 'DEADLINE_EXCEEDED');
/** isOutOfRange reports an OutOfRange anywhere in the cause chain. */
export const isOutOfRange = (err: unknown): boolean => is(err, 'OUT_OF_RANGE');
/** isDataLoss reports a DataLoss anywhere in the cause chain. */
export const isDataLoss = (err: unknown): boolean => is(err, 'DATA_LOSS');

/**
 * messageWithSuffix renders `err` the way containerd puts it on the wire: the message followed by
 * `: <class>` unless the message already ends with it (`image "x": not found`).
 */
export function messageWithSuffix(err: unknown): string {
  const code = codeOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'UNKNOWN') return msg;
  const suffix = ERROR_SUFFIX[code];
  return msg === suffix || msg.endsWith(`: ${suffix}`) ? msg : `${msg}: ${suffix}`;
}

/** stripSuffix removes a trailing `: <class>` (or a bare `<class>`) that a containerd-style message carries. */
export function stripSuffix(code: ErrorCode, message: string): string {
  const suffix = ERROR_SUFFIX[code];
  if (message.endsWith(`: ${suffix}`)) return message.slice(0, -(suffix.length + 2));
  return message;
}
