/** Info describes one committed blob. */
export interface Info {
  /** digest of the blob, `sha256:<64 hex>`. */
  digest: string;
  /** size in bytes. */
  size: number;
  createdAt: Date;
  /** time of the last label update (the commit time until then). */
  updatedAt: Date;
  labels: Record<string, string>;
}

/** Status describes one active (uncommitted) ingest. */
export interface Status {
  ref: string;
  /** bytes written so far: the next write lands here. */
  offset: number;
  /** size declared when the ingest was opened, or 0 when unknown. */
  total: number;
  /** digest declared when the ingest was opened, or `''` when unknown. */
  expected: string;
  startedAt: Date;
  updatedAt: Date;
}

/** BlobDescriptor names a blob to read: only `digest` is required. */
export interface BlobDescriptor {
  digest: string;
  /** the size the caller expects; stores may use it as a hint and need not check it. */
  size?: number;
}

/** WriterOptions opens or resumes the ingest named by `ref`. */
export interface WriterOptions {
  /** ingest name; required and unique per ongoing write. */
  ref: string;
  /** expected size, when known up front (0 or absent means unknown). */
  total?: number;
  /**
   * expected digest, when known up front. If the blob already exists the open fails with
   * AlreadyExists, which callers treat as success.
   */
  expected?: string;
  /** labels to set on the blob at commit when the commit itself gives none. */
  labels?: Record<string, string>;
}

/** CommitOptions are the mutable properties set on the blob by a successful commit. */
export interface CommitOptions {
  labels?: Record<string, string>;
}
