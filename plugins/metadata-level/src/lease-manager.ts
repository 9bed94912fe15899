import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import {
  adaptLease,
  compactMap,
  filterBy,
  leaseResourceType,
  newLeaseId,
  parseLeaseResource,
  requireNamespace,
  type Lease,
  type LeaseInput,
  type LeaseManager,
  type LeaseResource,
  type ParsedLeaseResource,
} from '@ctrd/metadata';
import type { MetaCore } from './core.js';
import { KEYS, splitKey } from './keys.js';
import type { WriteTxn } from './kv.js';
import { leaseFromRecord, type LeaseRecord } from './records.js';

/** LevelLeaseManager implements {@link LeaseManager} on the metadata database. */
export class LevelLeaseManager implements LeaseManager {
  constructor(private readonly core: MetaCore) {}

  async create(namespace: string, lease: LeaseInput): Promise<Lease> {
    requireNamespace(namespace);
    const id = lease.id || newLeaseId(this.core.now());
    return this.core.write(async (tx) => {
      const key = KEYS.lease(namespace, id);
      if ((await tx.get(key)) !== undefined) throw new AlreadyExistsError(`lease ${JSON.stringify(id)}`);
      await this.core.ensureNamespace(tx, namespace);
      const record: LeaseRecord = { labels: compactMap(lease.labels), createdAt: this.core.stamp() };
      // Nothing is below a lease that does not exist: a resource is recorded only in a write that
      // found the lease, and a lease goes with its resources in one batch.
      tx.put(key, record);
      return leaseFromRecord(id, record);
    });
  }

  async list(namespace: string, filters?: readonly string[]): Promise<Lease[]> {
    requireNamespace(namespace);
    const match = filterBy(filters, adaptLease);
    const out: Lease[] = [];
    for await (const r of this.core.records<LeaseRecord>(KEYS.leases(namespace))) {
      const lease = leaseFromRecord(r.name, r.value);
      if (match(lease)) out.push(lease);
    }
    return out;
  }

  async delete(namespace: string, id: string): Promise<void> {
    requireNamespace(namespace);
    await this.core.write(async (tx) => {
      const key = KEYS.lease(namespace, id);
      if ((await tx.get(key)) === undefined) throw new NotFoundError(`lease ${JSON.stringify(id)}`);
      await tx.delTree(key);
      tx.dirty = true;
    });
  }

  async addResource(namespace: string, id: string, resource: LeaseResource): Promise<void> {
    requireNamespace(namespace);
    // As containerd: a missing lease is NotFound before the resource is even looked at.
    await this.core.write(async (tx) => {
      if ((await tx.get(KEYS.lease(namespace, id))) === undefined) throw new NotFoundError(`lease ${JSON.stringify(id)}`);
      tx.put(leaseResourceKey(namespace, id, parseLeaseResource(resource)), 1);
    });
  }

  async deleteResource(namespace: string, id: string, resource: LeaseResource): Promise<void> {
    requireNamespace(namespace);
    await this.core.write(async (tx) => {
      if ((await tx.get(KEYS.lease(namespace, id))) === undefined) throw new NotFoundError(`lease ${JSON.stringify(id)}`);
      tx.del(leaseResourceKey(namespace, id, parseLeaseResource(resource)));
      tx.dirty = true;
    });
  }

  async listResources(namespace: string, id: string): Promise<LeaseResource[]> {
    requireNamespace(namespace);
    return this.core.read(async (v) => {
      const key = KEYS.lease(namespace, id);
      if ((await v.get(key)) === undefined) throw new NotFoundError(`lease ${JSON.stringify(id)}`);
      const depth = splitKey(key).length;
      const out: LeaseResource[] = [];
      for await (const [k] of v.descendants(key)) {
        const parsed = resourceFromPath(splitKey(k).slice(depth));
        if (parsed) out.push({ id: parsed.id, type: leaseResourceType(parsed) });
      }
      return out;
    });
  }
}

/** leaseResourceKey is where a lease records that it holds a resource. */
export function leaseResourceKey(ns: string, lease: string, r: ParsedLeaseResource): string {
  switch (r.kind) {
    case 'content':
      return KEYS.leaseContent(ns, lease, r.id);
    case 'ingests':
      return KEYS.leaseIngest(ns, lease, r.id);
    case 'snapshots':
      return KEYS.leaseSnapshot(ns, lease, r.snapshotter, r.id);
  }
}

/** resourceFromPath reads a resource back from the key components below its lease. */
export function resourceFromPath(path: readonly string[]): ParsedLeaseResource | undefined {
  const [kind, a, b] = path;
  if (kind === 'content' && path.length === 2) return { kind, id: a! };
  if (kind === 'ingests' && path.length === 2) return { kind, id: a! };
  if (kind === 'snapshots' && path.length === 3) return { kind, snapshotter: a!, id: b! };
  return undefined;
}

/**
 * holdInLease adds a resource to `lease` inside a write, for content and snapshots created while a
 * lease is given. NotFound `lease does not exist` if the lease is absent.
 */
export async function holdInLease(tx: WriteTxn, ns: string, lease: string, r: ParsedLeaseResource): Promise<void> {
  if (!lease) throw new InvalidArgumentError('lease id must not be empty');
  if ((await tx.get(KEYS.lease(ns, lease))) === undefined) throw new NotFoundError('lease does not exist');
  tx.put(leaseResourceKey(ns, lease, r), 1);
}

/** releaseFromLease removes a resource from `lease` inside a write; an absent lease is ignored. */
export function releaseFromLease(tx: WriteTxn, ns: string, lease: string | undefined, r: ParsedLeaseResource): void {
  if (lease) tx.del(leaseResourceKey(ns, lease, r));
}
