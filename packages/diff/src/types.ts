import type { Readable } from 'node:stream';
import { PluginType, createToken, type Token } from '@ctrd/plugin';
import type { Mount } from '@ctrd/mount';

/** Descriptor points at a blob: `containerd.types.Descriptor` / an OCI descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** ApplyOptions tune one {@link Applier.apply} call. */
export interface ApplyOptions {
  /** aborts the apply; the target is then left half-written and must be discarded. */
  signal?: AbortSignal;
  /** stream processors keyed by media type (containerd's `payloads`); unsupported here. */
  payloads?: Record<string, unknown>;
  /** refuse layers that expand past this many uncompressed bytes (no limit by default). */
  maxUncompressedSize?: number;
}

/**
 * Applier unpacks layers onto mounts. `apply` streams the blob `desc` from the content store,
 * decompresses it, verifies its digest and unpacks it onto `mounts` in one pass, and resolves
 * to the descriptor of the uncompressed layer (`digest` = the diffID, media type
 * `application/vnd.oci.image.layer.v1.tar`). Unknown media types are NotImplemented; a digest
 * mismatch is FailedPrecondition; a malicious or malformed layer is InvalidArgument. After any
 * failure the mounts hold a partial result and the caller discards the snapshot.
 */
export interface Applier {
  apply(desc: Descriptor, mounts: Mount[], opts?: ApplyOptions): Promise<Descriptor>;
}

/** CompareOptions tune one {@link Comparer.compare} call. */
export interface CompareOptions {
  /** media type of the layer to write; OCI tar+gzip by default. */
  mediaType?: string;
  /** ingest ref for the content writer; a unique one by default. */
  ref?: string;
  /** labels set on the committed blob, besides `containerd.io/uncompressed`. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Comparer writes the difference between two filesystems as a layer. `compare` mounts `lower`
 * and `upper` read-only, walks both, writes an OCI layer (whiteouts for deletions) into the
 * content store and resolves to its descriptor; the blob carries the
 * `containerd.io/uncompressed` label with the diffID.
 */
export interface Comparer {
  compare(lower: Mount[], upper: Mount[], opts?: CompareOptions): Promise<Descriptor>;
}

/** Differ both applies and creates layers (`io.containerd.differ.v1`). */
export type Differ = Applier & Comparer;

/** Differ is the token of the differ plugin type. */
export const Differ: Token<Differ> = createToken<Differ>(PluginType.Differ);

/** LayerStreamOptions describe one {@link LayerApplyResult}-producing stream apply. */
export interface LayerStreamOptions {
  /** the layer's media type; decides which types are accepted (the bytes decide the codec). */
  mediaType: string;
  /** write whiteouts the overlayfs way (0/0 char devices, `trusted.overlay.opaque`). */
  overlay: boolean;
  /** the compressed digest to verify at the end, when known. */
  expectedDigest?: string;
  signal?: AbortSignal;
  /** refuse layers that expand past this many uncompressed bytes. */
  maxUncompressedSize?: number;
  /**
   * overlay lower directories, topmost first: a parent directory missing from the target is
   * created with the attributes of the same directory in the first lower that has it.
   */
  parents?: readonly string[];
}

/** LayerApplyResult is what a stream apply measured. */
export interface LayerApplyResult {
  /** sha256 of the uncompressed tar. */
  diffID: string;
  /** sha256 of the bytes read (the blob digest). */
  compressedDigest: string;
  /** count of bytes read. */
  size: number;
  /** count of uncompressed tar bytes. */
  uncompressedSize: number;
}

/**
 * LayerStreamApplier is the signature of a streaming apply: unpack `stream` onto the plain
 * directory `target`, usable without a content store (a pull can unpack while downloading).
 */
export type LayerStreamApplier = (
  stream: AsyncIterable<Uint8Array> | Readable,
  target: string,
  opts: LayerStreamOptions,
) => Promise<LayerApplyResult>;
