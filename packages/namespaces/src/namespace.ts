import { FailedPreconditionError, InvalidArgumentError } from '@ctrd/errdefs';
import { validate } from '@ctrd/identifiers';

/** NAMESPACE_HEADER is the gRPC metadata key that carries the namespace of a request. */
export const NAMESPACE_HEADER = 'containerd-namespace';

/** TTRPC_NAMESPACE_HEADER is the ttrpc metadata key that carries the namespace of a request. */
export const TTRPC_NAMESPACE_HEADER = 'containerd-namespace-ttrpc';

/** LEASE_HEADER is the gRPC metadata key that carries the lease a request works under. */
export const LEASE_HEADER = 'containerd-lease';

/** DEFAULT_NAMESPACE is the namespace clients use when none is chosen. */
export const DEFAULT_NAMESPACE = 'default';

/** NAMESPACE_ENV is the environment variable clients read the namespace from (`CONTAINERD_NAMESPACE`). */
export const NAMESPACE_ENV = 'CONTAINERD_NAMESPACE';

/**
 * validateNamespace throws an `InvalidArgumentError` unless `ns` is a valid namespace name
 * (the identifier rule). The message is the identifier rule's, e.g.
 * `identifier "a..b" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$`.
 */
export function validateNamespace(ns: string): void {
  validate(ns);
}

/** namespaceRequired builds the error a request without a namespace fails with: FailedPrecondition `namespace is required`. */
export function namespaceRequired(): FailedPreconditionError {
  return new FailedPreconditionError('namespace is required');
}

/**
 * resolveNamespace returns the namespace a request carries, checked: an absent or empty value
 * throws {@link namespaceRequired}'s FailedPrecondition; a malformed one throws InvalidArgument
 * `namespace validation: identifier "x" must match …`.
 */
export function resolveNamespace(value: string | undefined): string {
  if (value === undefined || value === '') throw namespaceRequired();
  try {
    validate(value);
  } catch (err) {
    throw new InvalidArgumentError(`namespace validation: ${(err as Error).message}`, { cause: err });
  }
  return value;
}
