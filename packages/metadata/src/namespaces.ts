/** Namespace is a named, labelled scope that every other metadata record lives in. */
export interface Namespace {
  name: string;
  labels: Record<string, string>;
}

/**
 * NamespaceStore manages namespaces and their labels.
 *
 * A namespace also comes into being implicitly, the first time a record is written into it.
 */
export interface NamespaceStore {
  /** create makes a namespace with the given labels; AlreadyExists if it exists, InvalidArgument for a bad name. */
  create(name: string, labels?: Record<string, string>): Promise<Namespace>;
  /**
   * get returns a namespace and its labels. Like containerd, a namespace that does not exist is not
   * an error: it comes back with no labels.
   */
  get(name: string): Promise<Namespace>;
  /** list returns every namespace, sorted by name. */
  list(): Promise<Namespace[]>;
  /**
   * update changes a namespace's labels, creating the namespace if needed. Field paths are `labels`
   * (replace the map) and `labels.<key>` (set one key; an empty value deletes it); with none, the
   * labels are replaced. Any other path is InvalidArgument.
   */
  update(namespace: Namespace, fieldpaths?: readonly string[]): Promise<Namespace>;
  /**
   * delete removes an empty namespace (its leases and ingests go with it). FailedPrecondition names
   * what remains (images, blobs, containers, snapshots on a snapshotter); NotFound if it is absent.
   */
  delete(name: string): Promise<void>;
}
