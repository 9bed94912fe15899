import type { ContentStore, CommitOptions, Status, Writer } from '@ctrd/content';
import { FailedPreconditionError, InvalidArgumentError, isAlreadyExists, AlreadyExistsError } from '@ctrd/errdefs';
import { checkLabels, compactMap } from '@ctrd/metadata';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import { holdInLease, releaseFromLease } from './lease-manager.js';
import type { BlobRecord } from './records.js';

/** NamespacedWriterInit is everything a namespaced writer needs from the store that opened it. */
export interface NamespacedWriterInit {
  core: MetaCore;
  backing: ContentStore;
  namespace: string;
  lease: string | undefined;
  ref: string;
  /** the backend ref, `<ns>/<n>/<ref>`. */
  backendRef: string;
  /** the open backend writer; absent while the ingest only shares a blob that exists in the backend. */
  writer: Writer | undefined;
  /** the shared blob, when `writer` is absent. */
  shared: { digest: string; size: number } | undefined;
  labels: Record<string, string> | undefined;
}

/**
 * NamespacedWriter is a content writer seen from one namespace. When the expected blob already
 * exists in the backend (another namespace wrote it), no backend writer is opened: the ingest
 * reports the blob as fully written and its commit only adds this namespace's reference. A write
 * or truncate on such an ingest first copies the shared blob into a real backend ingest.
 */
export class NamespacedWriter implements Writer {
  private readonly startedAt: Date;

  constructor(private readonly s: NamespacedWriterInit) {
    this.startedAt = s.core.now();
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.s.writer) {
      if (data.length === 0) return;
      await this.unshare(this.s.shared!.size);
    }
    await this.s.writer!.write(data);
  }

  async truncate(size: number): Promise<void> {
    if (this.s.writer) return this.s.writer.truncate(size);
    await this.unshare(Math.min(size, this.s.shared!.size));
  }

  digest(): string {
    return this.s.writer ? this.s.writer.digest() : this.s.shared!.digest;
  }

  async status(): Promise<Status> {
    if (this.s.writer) return { ...(await this.s.writer.status()), ref: this.s.ref };
    const { digest, size } = this.s.shared!;
    return { ref: this.s.ref, offset: size, total: size, expected: digest, startedAt: this.startedAt, updatedAt: this.startedAt };
  }

  /**
   * commit publishes the blob in the backend first and only then takes the write lock to record
   * it: the backend's fsyncs and renames would otherwise hold up every metadata write. The digest
   * is pinned in between, so a collection cannot remove the blob before its record exists; if the
   * record cannot be written, the blob is left for the next collection.
   */
  async commit(size: number, expected?: string, opts?: CommitOptions): Promise<void> {
    const labels = compactMap(opts?.labels ?? this.s.labels);
    checkLabels('info.Labels', labels);
    const { core, namespace: ns } = this.s;
    const unpin = core.pinContent(expected || this.digest());
    try {
      const { digest: actual, size: committed } = await this.commitBackend(size, expected);
      let existed = false;
      await core.write(async (tx) => {
        const key = KEYS.blob(ns, actual);
        if ((await tx.get(key)) !== undefined) {
          existed = true;
        } else {
          const now = core.stamp();
          tx.put(key, { size: committed, labels, createdAt: now, updatedAt: now } satisfies BlobRecord);
        }
        tx.del(KEYS.ingest(ns, this.s.ref));
        releaseFromLease(tx, ns, this.s.lease, { kind: 'ingests', id: this.s.ref });
        if (this.s.lease) await holdInLease(tx, ns, this.s.lease, { kind: 'content', id: actual });
      }).catch((err: unknown) => {
        core.contentDirty = true;
        throw err;
      });
      if (existed) throw new AlreadyExistsError(`content ${actual}`);
    } finally {
      unpin();
    }
  }

  async close(): Promise<void> {
    await this.s.writer?.close();
  }

  private async commitBackend(size: number, expected: string | undefined): Promise<{ digest: string; size: number }> {
    const w = this.s.writer;
    if (!w) {
      const shared = this.s.shared!;
      if (size !== 0 && size !== shared.size) {
        throw new FailedPreconditionError(`${JSON.stringify(this.s.ref)} failed size validation: ${shared.size} != ${size}`);
      }
      if (expected && expected !== shared.digest) throw new FailedPreconditionError(`${JSON.stringify(this.s.ref)} unexpected digest`);
      return shared;
    }
    const st = await w.status();
    const digest = w.digest();
    try {
      await w.commit(size, expected);
    } catch (err) {
      // The blob is in the backend already (another namespace, or a racing writer): only the reference is missing.
      if (!isAlreadyExists(err)) throw err;
    }
    return { digest, size: st.offset };
  }

  /** unshare turns a shared ingest into a real backend ingest holding the first `size` bytes of the blob. */
  private async unshare(size: number): Promise<void> {
    if (size < 0) throw new InvalidArgumentError(`invalid truncate size ${size}`);
    const { backing, backendRef, shared } = this.s;
    const w = await backing.writer({ ref: backendRef });
    try {
      if ((await w.status()).offset > 0) await w.truncate(0);
      if (size > 0) {
        const ra = await backing.readerAt({ digest: shared!.digest });
        try {
          for await (const chunk of ra.stream(0, size)) await w.write(chunk);
        } finally {
          await ra.close();
        }
      }
    } catch (err) {
      await w.close();
      throw err;
    }
    this.s.writer = w;
  }
}
