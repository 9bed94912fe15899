/**
 * Any is a `google.protobuf.Any`: a type URL (containerd uses the bare type name, with no
 * `type.googleapis.com/` prefix) and the encoded bytes.
 */
export interface Any {
  typeUrl: string;
  value: Uint8Array;
}

/** ContainerRuntime names the runtime (e.g. `io.containerd.runc.v2`) and carries its options. */
export interface ContainerRuntime {
  name: string;
  options?: Any;
}

/** Container is pure metadata describing a container; a task is what runs it. */
export interface Container {
  id: string;
  labels: Record<string, string>;
  image: string;
  runtime: ContainerRuntime;
  spec?: Any;
  snapshotter: string;
  snapshotKey: string;
  createdAt: Date;
  updatedAt: Date;
  extensions: Record<string, Any>;
}

/** ContainerInput is what callers pass to create and update: a container without its timestamps. */
export interface ContainerInput {
  id: string;
  labels?: Record<string, string>;
  image?: string;
  runtime: ContainerRuntime;
  spec?: Any;
  snapshotter?: string;
  snapshotKey?: string;
  extensions?: Record<string, Any>;
}

/**
 * ContainerStore keeps the containers of each namespace. Every method takes the namespace first.
 *
 * Filters follow `@ctrd/filters` with the fields `id`, `image`, `runtime.name` and `labels.<key>`.
 */
export interface ContainerStore {
  /** get returns one container; NotFound if absent. */
  get(namespace: string, id: string): Promise<Container>;
  /** list returns the containers matching any of the filters (all when none), sorted by id. */
  list(namespace: string, filters?: readonly string[]): Promise<Container[]>;
  /**
   * create validates and stores a container: a valid id, a runtime name and a spec are required,
   * and a snapshotter when a snapshot key is set. AlreadyExists if the id is taken.
   */
  create(namespace: string, container: ContainerInput): Promise<Container>;
  /**
   * update changes a container. Field paths: `labels`, `labels.<key>`, `spec`, `extensions`,
   * `extensions.<key>`, `image`, `snapshotkey`. With no paths all of those are replaced, and a
   * changed `snapshotter` or `runtime.name` (both immutable) is InvalidArgument, as is any other path.
   */
  update(namespace: string, container: ContainerInput, fieldpaths?: readonly string[]): Promise<Container>;
  /** delete removes a container; NotFound if absent. Its snapshot and content go at the next collection. */
  delete(namespace: string, id: string): Promise<void>;
}
