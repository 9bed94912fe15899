import { status } from '@grpc/grpc-js';
import type { KindOverrides } from './generate.js';

const { INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, OUT_OF_RANGE, UNAVAILABLE, UNIMPLEMENTED } = status;

/** MethodSpec is what the fuzzer knows about one rpc beyond its descriptor. */
export interface MethodSpec {
  /** status codes, besides OK, that fuzzed input may draw. */
  allow: readonly status[];
  /** why a code outside the usual four is allowed. */
  why?: string;
  /** codes allowed only with matching details (e.g. UNKNOWN for a failed mount(2), as containerd answers). */
  allowDetails?: readonly { code: status; details: RegExp }[];
  /** the namespace headers to use: the shared fuzz namespaces, or ones where no container exists. */
  namespaces?: 'fuzz' | 'no-containers';
  /** string kinds for this method's fields. */
  kinds?: KindOverrides;
  /** a server stream that never ends by itself: cancel it after a moment. */
  endless?: boolean;
  /** the method is served elsewhere (a shim's ttrpc), so the daemon answers UNIMPLEMENTED. */
  notServed?: string;
}

const USUAL = [INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION] as const;
const usual = (extra: status[] = [], more: Partial<MethodSpec> = {}): MethodSpec => ({ allow: [...USUAL, ...extra], ...more });

// Tasks calls use namespaces with no containers: fuzzing must never start real containers.
const task = (extra: status[] = []): MethodSpec => usual(extra, { namespaces: 'no-containers' });
const shim = (): MethodSpec => ({ allow: [UNIMPLEMENTED], notServed: 'the shim task API is served by shims over ttrpc' });

// containerd answers a lease resource of an unknown type with ErrNotImplemented.
const UNKNOWN_RESOURCE = 'UNIMPLEMENTED: a resource type other than content, ingests or snapshots/<name>';
// sha384 and sha512 digests are well formed but @ctrd/content does not store them (NotImplemented by design).
const digests = (extra: status[] = [], more: Partial<MethodSpec> = {}): MethodSpec =>
  usual([UNIMPLEMENTED, ...extra], { why: 'UNIMPLEMENTED: a sha384/sha512 digest, which ctrd does not store', ...more });

// The differ mounts the caller's mounts; when mount(2) refuses one, containerd passes the
// errno on unclassified (UNKNOWN), and so does ctrd.
const MOUNT_WHY = 'UNKNOWN: mount(2) refused a mount from the request';
const MOUNT_FAILED = [{ code: status.UNKNOWN, details: /^mount [\s\S]* on \S+: / }];

const transferKinds: KindOverrides = { 'PullRequest.ref': 'transferRef', 'PushRequest.ref': 'transferRef', 'PushRequest.name': 'imageName' };
const transfer = usual([UNAVAILABLE, UNIMPLEMENTED], {
  kinds: transferKinds,
  why: 'UNAVAILABLE: the registry (a closed loopback port) is unreachable; UNIMPLEMENTED: unsupported media types',
});

/**
 * METHOD_SPECS lists every rpc of the API. The fuzz test fails for a method the descriptors
 * declare and this table lacks, so a new rpc cannot go unfuzzed.
 */
export const METHOD_SPECS: Readonly<Record<string, MethodSpec>> = {
  '/containerd.services.containers.v1.Containers/Get': usual(),
  '/containerd.services.containers.v1.Containers/List': usual(),
  '/containerd.services.containers.v1.Containers/ListStream': usual(),
  '/containerd.services.containers.v1.Containers/Create': usual(),
  '/containerd.services.containers.v1.Containers/Update': usual(),
  '/containerd.services.containers.v1.Containers/Delete': usual(),

  '/containerd.services.content.v1.Content/Info': digests(),
  '/containerd.services.content.v1.Content/Update': digests(),
  '/containerd.services.content.v1.Content/List': usual(),
  '/containerd.services.content.v1.Content/Delete': digests(),
  '/containerd.services.content.v1.Content/Read': digests([OUT_OF_RANGE]),
  '/containerd.services.content.v1.Content/Status': usual(),
  '/containerd.services.content.v1.Content/ListStatuses': usual(),
  '/containerd.services.content.v1.Content/Write': digests([OUT_OF_RANGE, UNAVAILABLE], {
    why: 'UNAVAILABLE: the ref is locked by a concurrent writer; UNIMPLEMENTED: a sha384/sha512 expected digest',
  }),
  '/containerd.services.content.v1.Content/Abort': usual([UNAVAILABLE], { why: 'UNAVAILABLE: the ref is locked by a concurrent writer' }),

  '/containerd.services.diff.v1.Diff/Apply': usual([UNIMPLEMENTED], { why: `UNIMPLEMENTED: no applier for the media type; ${MOUNT_WHY}`, allowDetails: MOUNT_FAILED }),
  '/containerd.services.diff.v1.Diff/Diff': usual([UNIMPLEMENTED], {
    why: `UNIMPLEMENTED: no differ for the media type; ${MOUNT_WHY}; UNAVAILABLE: a concurrent Diff holds the same ingest ref`,
    allowDetails: [...MOUNT_FAILED, { code: status.UNAVAILABLE, details: /^ref .* locked/ }],
  }),

  '/containerd.services.events.v1.Events/Publish': usual(),
  '/containerd.services.events.v1.Events/Forward': usual(),
  '/containerd.services.events.v1.Events/Subscribe': usual([], { endless: true }),
  '/containerd.services.events.ttrpc.v1.Events/Forward': { allow: [UNIMPLEMENTED], notServed: 'shims forward events over ttrpc' },

  '/containerd.services.images.v1.Images/Get': usual(),
  '/containerd.services.images.v1.Images/List': usual(),
  '/containerd.services.images.v1.Images/Create': usual(),
  '/containerd.services.images.v1.Images/Update': usual(),
  '/containerd.services.images.v1.Images/Delete': usual(),

  '/containerd.services.introspection.v1.Introspection/Plugins': usual(),
  '/containerd.services.introspection.v1.Introspection/Server': usual(),

  '/containerd.services.leases.v1.Leases/Create': usual(),
  '/containerd.services.leases.v1.Leases/Delete': usual(),
  '/containerd.services.leases.v1.Leases/List': usual(),
  '/containerd.services.leases.v1.Leases/AddResource': usual([UNIMPLEMENTED], { why: UNKNOWN_RESOURCE }),
  '/containerd.services.leases.v1.Leases/DeleteResource': usual([UNIMPLEMENTED], { why: UNKNOWN_RESOURCE }),
  '/containerd.services.leases.v1.Leases/ListResources': usual(),

  '/containerd.services.namespaces.v1.Namespaces/Get': usual(),
  '/containerd.services.namespaces.v1.Namespaces/List': usual(),
  '/containerd.services.namespaces.v1.Namespaces/Create': usual(),
  '/containerd.services.namespaces.v1.Namespaces/Update': usual(),
  '/containerd.services.namespaces.v1.Namespaces/Delete': usual(),

  '/containerd.services.snapshots.v1.Snapshots/Prepare': usual(),
  '/containerd.services.snapshots.v1.Snapshots/View': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Mounts': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Commit': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Remove': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Stat': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Update': usual(),
  '/containerd.services.snapshots.v1.Snapshots/List': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Usage': usual(),
  '/containerd.services.snapshots.v1.Snapshots/Cleanup': usual([UNIMPLEMENTED], { why: 'UNIMPLEMENTED: a snapshotter without cleanup' }),

  '/containerd.services.tasks.v1.Tasks/Create': task(),
  '/containerd.services.tasks.v1.Tasks/Start': task(),
  '/containerd.services.tasks.v1.Tasks/Delete': task(),
  '/containerd.services.tasks.v1.Tasks/DeleteProcess': task(),
  '/containerd.services.tasks.v1.Tasks/Get': task(),
  '/containerd.services.tasks.v1.Tasks/List': task(),
  '/containerd.services.tasks.v1.Tasks/Kill': task(),
  '/containerd.services.tasks.v1.Tasks/Exec': task(),
  '/containerd.services.tasks.v1.Tasks/ResizePty': task(),
  '/containerd.services.tasks.v1.Tasks/CloseIO': task(),
  '/containerd.services.tasks.v1.Tasks/Pause': task(),
  '/containerd.services.tasks.v1.Tasks/Resume': task(),
  '/containerd.services.tasks.v1.Tasks/ListPids': task(),
  '/containerd.services.tasks.v1.Tasks/Checkpoint': task(),
  '/containerd.services.tasks.v1.Tasks/Update': task(),
  '/containerd.services.tasks.v1.Tasks/Metrics': task(),
  '/containerd.services.tasks.v1.Tasks/Wait': task(),

  '/containerd.services.version.v1.Version/Version': usual(),

  '/containerd.task.v2.Task/State': shim(),
  '/containerd.task.v2.Task/Create': shim(),
  '/containerd.task.v2.Task/Start': shim(),
  '/containerd.task.v2.Task/Delete': shim(),
  '/containerd.task.v2.Task/Pids': shim(),
  '/containerd.task.v2.Task/Pause': shim(),
  '/containerd.task.v2.Task/Resume': shim(),
  '/containerd.task.v2.Task/Checkpoint': shim(),
  '/containerd.task.v2.Task/Kill': shim(),
  '/containerd.task.v2.Task/Exec': shim(),
  '/containerd.task.v2.Task/ResizePty': shim(),
  '/containerd.task.v2.Task/CloseIO': shim(),
  '/containerd.task.v2.Task/Update': shim(),
  '/containerd.task.v2.Task/Wait': shim(),
  '/containerd.task.v2.Task/Stats': shim(),
  '/containerd.task.v2.Task/Connect': shim(),
  '/containerd.task.v2.Task/Shutdown': shim(),

  '/ctrd.services.events.v1.Events/Subscribe': usual([], { endless: true }),
  '/ctrd.services.introspection.v1.Introspection/Plugins': usual(),
  '/ctrd.services.transfer.v1.Transfer/Pull': transfer,
  '/ctrd.services.transfer.v1.Transfer/Push': transfer,
  '/ctrd.services.transfer.v1.Transfer/Fetch': transfer,

  '/grpc.health.v1.Health/Check': usual(),
  '/grpc.health.v1.Health/Watch': usual([], { endless: true }),
};
