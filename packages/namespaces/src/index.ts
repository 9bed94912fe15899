/**
 * `@ctrd/namespaces` names the request headers that carry a namespace and checks the value.
 *
 * Every namespaced call carries its namespace in the gRPC metadata header `containerd-namespace`
 * (ttrpc: `containerd-namespace-ttrpc`). A call without one fails with FailedPrecondition
 * `namespace is required`; a malformed one fails with InvalidArgument. Namespace names follow the
 * identifier rule of `@ctrd/identifiers`.
 *
 * @packageDocumentation
 */

export {
  NAMESPACE_HEADER,
  TTRPC_NAMESPACE_HEADER,
  LEASE_HEADER,
  DEFAULT_NAMESPACE,
  NAMESPACE_ENV,
  validateNamespace,
  namespaceRequired,
  resolveNamespace,
} from './namespace.js';
