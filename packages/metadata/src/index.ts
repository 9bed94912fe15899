/**
 * `@ctrd/metadata` is the contract of ctrd's metadata layer: the records every namespace owns
 * (namespaces and their labels, images, containers, leases) and the stores that keep them. It
 * touches no database; `@ctrd/metadata-level` implements it on LevelDB, and the conformance suites
 * in `@ctrd/metadata/testsuite` check any implementation.
 *
 * Every store method takes the namespace as its first argument; an empty namespace is
 * FailedPrecondition (`namespace is required`) and an invalid one InvalidArgument. A namespace
 * exists once anything is written into it, or once it is created explicitly.
 *
 * Updates take containerd's field masks: `labels` replaces the label map, `labels.<key>` sets one
 * key (everything after the first `labels.` is the key, dots included) and an empty value deletes
 * it. An unknown path is InvalidArgument. `updatedAt` moves on every update; `createdAt` never does.
 *
 * The pure rules shared by implementations live here too: validation (`validateImage`,
 * `validateContainer`), mask application (`applyImageUpdate`, `applyContainerUpdate`,
 * `applyNamespaceUpdate`), filter adaptors, lease resource parsing, and the garbage collection
 * labels (`GC_LABELS`, `gcLabelRefs`).
 *
 * @packageDocumentation
 */
export type { Any, Container, ContainerInput, ContainerRuntime, ContainerStore } from './containers.js';
export type { Descriptor, Image, ImageInput, ImageStore } from './images.js';
export type { Lease, LeaseInput, LeaseManager, LeaseResource } from './leases.js';
export type { Namespace, NamespaceStore } from './namespaces.js';
export { GC_LABELS, dropsGcReferences, gcLabelRefs, type GcLabelRef } from './gc-labels.js';
export { digestProblem, parseDigest } from './digest.js';
export {
  checkIdentifier,
  checkLabels,
  compactMap,
  filterBy,
  mapField,
  requireNamespace,
  type FieldAdaptor,
} from './rules-common.js';
export { adaptImage, applyImageUpdate, normalizeDescriptor, validateImage } from './image-rules.js';
export {
  adaptContainer,
  applyContainerUpdate,
  checkNewContainer,
  containerFields,
  validateContainer,
  type ContainerFields,
} from './container-rules.js';
export { adaptLease, leaseResourceType, newLeaseId, parseLeaseResource, type ParsedLeaseResource } from './lease-rules.js';
export { applyNamespaceUpdate } from './namespace-rules.js';
export { MetadataStore, GcScheduler, type ContentViewOptions, type GcStats } from './metadata-store.js';
