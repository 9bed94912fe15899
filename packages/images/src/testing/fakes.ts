import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { readBlob, type Provider } from '@ctrd/content';
import type { Applier, Descriptor } from '@ctrd/diff';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import { Kind, type Info, type Snapshotter, type Usage } from '@ctrd/snapshots';

/** FakeSnapshotter is an in-memory Snapshotter that records the calls made to it. */
export interface FakeSnapshotter extends Snapshotter {
  readonly calls: string[];
  readonly records: Map<string, Info>;
}

/** createFakeSnapshotter returns an in-memory snapshotter with containerd's error rules (no files). */
export function createFakeSnapshotter(): FakeSnapshotter {
  const records = new Map<string, Info>();
  const calls: string[] = [];
  const get = (key: string): Info => {
    const r = records.get(key);
    if (!r) throw new NotFoundError(`snapshot ${key} does not exist`);
    return r;
  };
  const create = async (kind: Kind, key: string, parent?: string, labels?: Record<string, string>) => {
    await Promise.resolve();
    if (records.has(key)) throw new AlreadyExistsError(`snapshot ${key}`);
    if (parent) {
      const p = get(parent);
      if (p.kind !== Kind.Committed) throw new InvalidArgumentError(`parent ${parent} is not committed`);
    }
    const now = new Date();
    records.set(key, { kind, name: key, parent: parent || undefined, labels: { ...labels }, createdAt: now, updatedAt: now });
    return [{ type: 'fake', source: key, target: '', options: [] as string[] }];
  };
  return {
    calls,
    records,
    async stat(key) {
      calls.push(`stat ${key}`);
      return { ...get(key) };
    },
    async update(info) {
      const r = get(info.name);
      r.labels = { ...info.labels };
      return { ...r };
    },
    async usage(key): Promise<Usage> {
      get(key);
      return { size: 4096, inodes: 1 };
    },
    async mounts(key) {
      get(key);
      return [{ type: 'fake', source: key, target: '', options: [] }];
    },
    async prepare(key, parent, opts) {
      calls.push(`prepare ${key}`);
      return create(Kind.Active, key, parent, opts?.labels);
    },
    async view(key, parent, opts) {
      return create(Kind.View, key, parent, opts?.labels);
    },
    async commit(name, key, opts) {
      calls.push(`commit ${name}`);
      await Promise.resolve();
      const r = get(key);
      if (r.kind !== Kind.Active) throw new FailedPreconditionError(`snapshot ${key} is not active`);
      if (records.has(name)) throw new AlreadyExistsError(`snapshot ${name}`);
      records.delete(key);
      records.set(name, { ...r, kind: Kind.Committed, name, labels: { ...opts?.labels } });
    },
    async remove(key) {
      calls.push(`remove ${key}`);
      get(key);
      for (const r of records.values()) {
        if (r.parent === key) throw new FailedPreconditionError(`cannot remove snapshot with child`);
      }
      records.delete(key);
    },
    async walk(fn) {
      for (const r of [...records.values()]) await fn({ ...r });
    },
    async close() {},
  } as FakeSnapshotter;
}

/** FakeApplier computes diffIDs without writing anything, and counts its calls. */
export interface FakeApplier extends Applier {
  applied: string[];
  /** makes every apply resolve to this digest instead of the real diffID. */
  forceDigest?: string;
  /** delays each apply by this many milliseconds. */
  delayMs?: number;
}

/** createFakeApplier returns an applier that reads and gunzips the layer blob and hashes the tar. */
export function createFakeApplier(provider: Provider): FakeApplier {
  const a: FakeApplier = {
    applied: [],
    async apply(desc: Descriptor) {
      a.applied.push(desc.digest);
      if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
      const blob = Buffer.from(await readBlob(provider, desc));
      const tar = blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob) : blob;
      const digest = a.forceDigest ?? `sha256:${createHash('sha256').update(tar).digest('hex')}`;
      return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: tar.length };
    },
  };
  return a;
}
