import {
  adaptInfo,
  adaptStatus,
  applyLabelUpdate,
  parseFilters,
  validateDigest,
  type BlobDescriptor,
  type ContentStore,
  type Info,
  type ReaderAt,
  type Status,
  type Writer,
  type WriterOptions,
} from '@ctrd/content';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, isAlreadyExists, isNotFound } from '@ctrd/errdefs';
import { dropsGcReferences, requireNamespace } from '@ctrd/metadata';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import type { WriteTxn } from './kv.js';
import { holdInLease, releaseFromLease } from './lease-manager.js';
import { NamespacedWriter } from './namespaced-writer.js';
import type { BlobRecord, IngestRecord } from './records.js';

/** INGEST_EXPIRY_MS is how long an ingest outside any lease stays a GC root (containerd: 24 h). */
export const INGEST_EXPIRY_MS = 24 * 60 * 60 * 1000;

/** NamespaceContentOptions scope a view: `lease` holds everything the view writes. */
export interface NamespaceContentOptions {
  lease?: string;
}

/** IngestPlan is how to open an ingest whose record is written: see recordIngest. */
interface IngestPlan {
  backendRef: string;
  shared: { digest: string; size: number } | undefined;
  expected: string | undefined;
}

/**
 * NamespacedContentStore wraps one backing content store for every namespace (containerd's
 * shared policy): each blob is stored once, and each namespace sees only the blobs it references.
 */
export interface NamespacedContentStore {
  /** forNamespace returns the content store as namespace `ns` sees it. */
  forNamespace(ns: string, opts?: NamespaceContentOptions): ContentStore;
  /** backing is the wrapped store. */
  readonly backing: ContentStore;
}

/** createNamespacedContentStore builds the wrapper; `MetadataDB.contentStore` is the usual way in. */
export function createNamespacedContentStore(core: MetaCore, backing: ContentStore, policy: SharingPolicy = 'shared'): NamespacedContentStore {
  return { backing, forNamespace: (ns, opts) => new NamespaceContentView(core, backing, requireNamespace(ns), opts?.lease, policy) };
}

function infoFrom(digest: string, r: BlobRecord): Info {
  return { digest, size: r.size, labels: { ...r.labels }, createdAt: new Date(r.createdAt), updatedAt: new Date(r.updatedAt) };
}

/**
 * SharingPolicy is containerd's `content_sharing_policy`: `shared` lets a namespace take a blob
 * another namespace already stored by naming its digest; `isolated` makes it write the bytes.
 */
export type SharingPolicy = 'shared' | 'isolated';

/** NamespaceContentView is the content store of one namespace, optionally under a lease. */
class NamespaceContentView implements ContentStore {
  constructor(
    private readonly core: MetaCore,
    private readonly backing: ContentStore,
    private readonly ns: string,
    private readonly lease: string | undefined,
    private readonly policy: SharingPolicy,
  ) {}

  async info(digest: string): Promise<Info> {
    validateDigest(digest);
    const r = await this.core.get<BlobRecord>(KEYS.blob(this.ns, digest));
    if (!r) throw new NotFoundError(`content digest ${digest}`);
    return infoFrom(digest, r);
  }

  async update(info: Pick<Info, 'digest'> & Partial<Pick<Info, 'labels'>>, fieldpaths?: readonly string[]): Promise<Info> {
    validateDigest(info.digest);
    return this.core.write(async (tx) => {
      const key = KEYS.blob(this.ns, info.digest);
      const r = await tx.get<BlobRecord>(key);
      if (!r) throw new NotFoundError(`content digest ${info.digest}`);
      const next: BlobRecord = { ...r, labels: applyLabelUpdate(info.digest, r.labels, info.labels, fieldpaths), updatedAt: this.core.stamp() };
      tx.put(key, next);
      // Dropped gc labels may leave other blobs unreferenced.
      tx.dirty = dropsGcReferences(r.labels, next.labels);
      return infoFrom(info.digest, next);
    });
  }

  async walk(fn: (info: Info) => void | Promise<void>, filters?: readonly string[]): Promise<void> {
    for (const info of await this.matching(filters)) await fn(info);
  }

  async *list(filters?: readonly string[]): AsyncIterable<Info> {
    yield* await this.matching(filters);
  }

  private async matching(filters: readonly string[] | undefined): Promise<Info[]> {
    const filter = parseFilters(filters);
    const out: Info[] = [];
    for await (const r of this.core.records<BlobRecord>(KEYS.blobs(this.ns))) {
      const info = infoFrom(r.name, r.value);
      if (filter.match(adaptInfo(info))) out.push(info);
    }
    return out;
  }

  async delete(digest: string): Promise<void> {
    validateDigest(digest);
    await this.core.write(async (tx) => {
      const key = KEYS.blob(this.ns, digest);
      if ((await tx.get(key)) === undefined) throw new NotFoundError(`content digest ${digest}`);
      tx.del(key);
      releaseFromLease(tx, this.ns, this.lease, { kind: 'content', id: digest });
      tx.dirty = true;
      this.core.contentDirty = true;
    });
  }

  async readerAt(desc: BlobDescriptor): Promise<ReaderAt> {
    validateDigest(desc.digest);
    const found = await this.core.get<BlobRecord>(KEYS.blob(this.ns, desc.digest));
    if (!found) throw new NotFoundError(`content digest ${desc.digest}`);
    return this.backing.readerAt(desc);
  }

  async status(ref: string): Promise<Status> {
    const r = await this.core.get<IngestRecord>(KEYS.ingest(this.ns, ref));
    if (!r) throw new NotFoundError(`reference ${ref}`);
    const st = await this.backendStatus(ref, r);
    if (!st) throw new NotFoundError(`reference ${ref}`);
    return st;
  }

  async listStatuses(filters?: readonly string[]): Promise<Status[]> {
    const filter = parseFilters(filters);
    const records: Array<{ name: string; value: IngestRecord }> = [];
    for await (const r of this.core.records<IngestRecord>(KEYS.ingests(this.ns))) records.push(r);
    const out: Status[] = [];
    for (const r of records) {
      const st = await this.backendStatus(r.name, r.value);
      if (st && filter.match(adaptStatus(st))) out.push(st);
    }
    return out;
  }

  /** backendStatus reads an ingest's state from the backend; a shared ingest reports the whole shared blob. */
  private async backendStatus(ref: string, r: IngestRecord): Promise<Status | undefined> {
    try {
      return { ...(await this.backing.status(r.ref)), ref };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!r.expected || r.size === undefined) return undefined;
    const started = new Date(r.startedAt);
    return { ref, offset: r.size, total: r.size, expected: r.expected, startedAt: started, updatedAt: started };
  }

  async abort(ref: string): Promise<void> {
    await this.core.write(async (tx) => {
      const key = KEYS.ingest(this.ns, ref);
      const r = await tx.get<IngestRecord>(key);
      if (!r) throw new NotFoundError(`reference ${ref}`);
      try {
        await this.backing.abort(r.ref);
      } catch (err) {
        // A shared ingest never wrote anything to the backend.
        if (!isNotFound(err)) throw err;
      }
      tx.del(key);
      releaseFromLease(tx, this.ns, this.lease, { kind: 'ingests', id: ref });
      tx.dirty = true;
      this.core.contentDirty = true;
    });
  }

  /**
   * writer records the ingest under the write lock, then opens the backend's writer outside it:
   * opening creates files and, on a resume, re-hashes the data written so far, which must not hold
   * up other metadata writes. Should the backend have received the blob from another namespace in
   * between (AlreadyExists), the ingest is planned again and shares that blob.
   */
  async writer(opts: WriterOptions): Promise<Writer> {
    if (!opts.ref) throw new InvalidArgumentError('ref must not be empty');
    if (opts.expected) validateDigest(opts.expected);
    for (let attempt = 1; ; attempt++) {
      const plan = await this.core.write((tx) => this.recordIngest(tx, opts));
      if (!plan) throw new AlreadyExistsError(`content ${opts.expected}`);
      try {
        const writer = plan.shared ? undefined : await this.backing.writer({ ref: plan.backendRef, total: opts.total, expected: plan.expected });
        return new NamespacedWriter({
          core: this.core,
          backing: this.backing,
          namespace: this.ns,
          lease: this.lease,
          ref: opts.ref,
          backendRef: plan.backendRef,
          writer,
          shared: plan.shared,
          labels: opts.labels,
        });
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= 3) throw err;
      }
    }
  }

  /**
   * recordIngest writes the ingest's record and says how to open it: the backend ref, the blob it
   * shares (when the backend has the expected blob and the policy allows) or the digest the
   * backend writer expects. Undefined when this namespace has the expected blob already (it is
   * then held in the lease, so the caller's later references cannot lose it).
   */
  private async recordIngest(tx: WriteTxn, opts: WriterOptions): Promise<IngestPlan | undefined> {
    if (opts.expected && (await tx.get(KEYS.blob(this.ns, opts.expected))) !== undefined) {
      if (this.lease) await holdInLease(tx, this.ns, this.lease, { kind: 'content', id: opts.expected });
      return undefined;
    }
    const inBackend = opts.expected ? await this.backendBlob(opts.expected) : undefined;
    // Under the isolated policy a namespace gets a blob only by writing all of its bytes, even
    // when another namespace has it: having the digest proves nothing about having the data.
    const sharable = this.policy === 'shared' && inBackend && (!opts.total || opts.total === inBackend.size);
    const shared = sharable ? inBackend : undefined;
    const key = KEYS.ingest(this.ns, opts.ref);
    const prev = await tx.get<IngestRecord>(key);
    let backendRef = prev?.ref;
    if (!backendRef) {
      const seq = ((await tx.get<number>(KEYS.ingestSequence)) ?? 0) + 1;
      tx.put(KEYS.ingestSequence, seq);
      backendRef = `${this.ns}/${seq}/${opts.ref}`;
    }
    const now = this.core.now();
    const record: IngestRecord = { ref: backendRef, startedAt: prev?.startedAt ?? now.toISOString() };
    if (this.lease) await holdInLease(tx, this.ns, this.lease, { kind: 'ingests', id: opts.ref });
    else record.expireAt = new Date(now.getTime() + INGEST_EXPIRY_MS).toISOString();
    if (shared) {
      record.expected = shared.digest;
      record.size = shared.size;
    }
    await this.core.ensureNamespace(tx, this.ns);
    tx.put(key, record);
    // The backend sees the expected digest only when it lacks the blob: otherwise it would answer
    // AlreadyExists for a blob this namespace does not reference yet.
    return { backendRef, shared, expected: inBackend ? undefined : opts.expected };
  }

  /** backendBlob returns the backend's copy of `digest`, if it has one. */
  private async backendBlob(digest: string): Promise<{ digest: string; size: number } | undefined> {
    try {
      const info = await this.backing.info(digest);
      return { digest, size: info.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
