/**
 * `@ctrd/api` is containerd 1.6's v1 wire API for TypeScript.
 *
 * The protos under `packages/api/proto` are ctrd's own description of containerd's wire format
 * (same packages, messages and field numbers). Build-time code generation (ts-proto via buf)
 * turns them into modules under `@ctrd/api/gen/<proto path>.js`, one per proto file, each with
 * the message interfaces and codecs, and for services the grpc-js definition
 * (`ContentService`), handler interface (`ContentServer`), client class (`ContentClient`) and a
 * framework-neutral method table (`ContentDefinition`) that the ttrpc layer reuses:
 *
 * ```ts
 * import { VersionService, type VersionServer } from '@ctrd/api/gen/containerd/services/version/v1/version.js';
 * import { TaskExit } from '@ctrd/api/gen/containerd/events/task.js';
 * ```
 *
 * Mapping conventions: int64 fields are JS numbers (decoding throws past 2^53); the cgroup
 * metrics' uint64 fields are decimal strings; Timestamp is `{ seconds, nanos }`; bytes are
 * Buffers; a FieldMask field is `string[]` of paths; message-typed fields are optional.
 *
 * This entry point adds the Any helpers and type registry, the well-known type URLs and the
 * Timestamp helpers.
 *
 * @packageDocumentation
 */

export { packAny, unpackAny, unpackAnyAs } from './any.js';
export { TypeRegistry, typeRegistry, type MessageCodec } from './type-registry.js';
export { TypeUrls, SpecTypeUrls, type TypeUrl } from './type-urls.js';
export {
  GO_ZERO_TIME_SECONDS,
  GO_ZERO_TIMESTAMP,
  toTimestamp,
  fromTimestamp,
  isUnsetTimestamp,
} from './timestamp.js';
export type { GeneratedMessageTypes } from './gen/registry.js';
export type { Any } from './gen/google/protobuf/any.js';
export type { Timestamp } from './gen/google/protobuf/timestamp.js';
