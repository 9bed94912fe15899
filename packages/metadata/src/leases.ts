/** Lease holds resources (content, ingests, snapshots) back from garbage collection while it lives. */
export interface Lease {
  id: string;
  createdAt: Date;
  labels: Record<string, string>;
}

/**
 * LeaseResource is one resource a lease holds. `type` is `content` (id: a digest), `ingests`
 * (id: an ingest ref) or `snapshots/<snapshotter>` (id: a snapshot key).
 */
export interface LeaseResource {
  id: string;
  type: string;
}

/** LeaseInput is what callers pass to create: an id (a random one when absent) and labels. */
export interface LeaseInput {
  id?: string;
  labels?: Record<string, string>;
}

/**
 * LeaseManager manages the leases of each namespace. Every method takes the namespace first.
 *
 * A lease labelled `containerd.io/gc.expire` (RFC 3339) stops protecting its resources once that
 * time has passed; `containerd.io/gc.flat` makes it protect only the resources it lists, not what
 * they reference. Filters follow `@ctrd/filters` with the fields `id` and `labels.<key>`.
 */
export interface LeaseManager {
  /** create makes a lease; AlreadyExists if the id is taken. */
  create(namespace: string, lease: LeaseInput): Promise<Lease>;
  /** list returns the leases matching any of the filters (all when none), sorted by id. */
  list(namespace: string, filters?: readonly string[]): Promise<Lease[]>;
  /** delete removes a lease; NotFound if absent. What it held goes at the next collection. */
  delete(namespace: string, id: string): Promise<void>;
  /**
   * addResource adds a resource to a lease. NotFound if the lease is absent; an unknown resource
   * type is NotImplemented and a malformed one (or a bad digest) InvalidArgument.
   */
  addResource(namespace: string, id: string, resource: LeaseResource): Promise<void>;
  /** deleteResource removes a resource from a lease; removing one it does not hold is not an error. */
  deleteResource(namespace: string, id: string, resource: LeaseResource): Promise<void>;
  /** listResources returns what a lease holds; NotFound if the lease is absent. */
  listResources(namespace: string, id: string): Promise<LeaseResource[]>;
}
