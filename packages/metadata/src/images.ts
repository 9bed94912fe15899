/** Descriptor points at a blob in the content store (`containerd.types.Descriptor`). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** Image is a named reference to a root descriptor (usually a manifest or an index). */
export interface Image {
  name: string;
  labels: Record<string, string>;
  target: Descriptor;
  createdAt: Date;
  updatedAt: Date;
}

/** ImageInput is what callers pass to create and update: an image without its timestamps. */
export interface ImageInput {
  name: string;
  labels?: Record<string, string>;
  target: Descriptor;
}

/**
 * ImageStore keeps the images of each namespace. Every method takes the namespace first.
 *
 * Filters follow `@ctrd/filters` with the fields `name`, `target.digest`, `target.mediatype`,
 * `labels.<key>` and `annotations.<key>` (the target's annotations).
 */
export interface ImageStore {
  /** get returns one image; NotFound `image "<name>"` if absent. */
  get(namespace: string, name: string): Promise<Image>;
  /** list returns the images matching any of the filters (all when none), sorted by name. */
  list(namespace: string, filters?: readonly string[]): Promise<Image[]>;
  /** create stores a new image; AlreadyExists if the name is taken, InvalidArgument if invalid. */
  create(namespace: string, image: ImageInput): Promise<Image>;
  /**
   * update changes an existing image. Field paths: `labels`, `labels.<key>`, `target`, `annotations`,
   * `annotations.<key>` (the last two act on the target's annotations; an empty value deletes a key).
   * With no paths the labels and target are replaced. An unknown path is InvalidArgument.
   */
  update(namespace: string, image: ImageInput, fieldpaths?: readonly string[]): Promise<Image>;
  /** delete removes an image; NotFound if absent. Its blobs go at the next garbage collection. */
  delete(namespace: string, name: string): Promise<void>;
}
