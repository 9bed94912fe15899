import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@ctrd/errdefs';
import {
  applyNamespaceUpdate,
  checkIdentifier,
  checkLabels,
  compactMap,
  type Namespace,
  type NamespaceStore,
} from '@ctrd/metadata';
import { validate } from '@ctrd/identifiers';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import type { ReadView } from './kv.js';
import type { NamespaceRecord } from './records.js';

/** LevelNamespaceStore implements {@link NamespaceStore} on the metadata database. */
export class LevelNamespaceStore implements NamespaceStore {
  constructor(private readonly core: MetaCore) {}

  async create(name: string, labels?: Record<string, string>): Promise<Namespace> {
    validate(name);
    checkLabels('namespace.Labels', labels);
    const record: NamespaceRecord = { labels: compactMap(labels) };
    return this.core.write(async (tx) => {
      if ((await tx.get(KEYS.namespace(name))) !== undefined) throw new AlreadyExistsError(`namespace ${JSON.stringify(name)}`);
      tx.put(KEYS.namespace(name), record);
      return { name, labels: { ...record.labels } };
    });
  }

  async get(name: string): Promise<Namespace> {
    const record = await this.core.get<NamespaceRecord>(KEYS.namespace(name));
    return { name, labels: { ...record?.labels } };
  }

  async list(): Promise<Namespace[]> {
    const out: Namespace[] = [];
    for await (const r of this.core.records<NamespaceRecord>(KEYS.root)) out.push({ name: r.name, labels: { ...r.value.labels } });
    return out;
  }

  async update(namespace: Namespace, fieldpaths?: readonly string[]): Promise<Namespace> {
    checkIdentifier('namespace', namespace.name);
    return this.core.write(async (tx) => {
      const current = await tx.get<NamespaceRecord>(KEYS.namespace(namespace.name));
      const labels = applyNamespaceUpdate(current?.labels ?? {}, namespace, fieldpaths);
      tx.put(KEYS.namespace(namespace.name), { labels } satisfies NamespaceRecord);
      return { name: namespace.name, labels: { ...labels } };
    });
  }

  async delete(name: string): Promise<void> {
    await this.core.write(async (tx) => {
      const key = KEYS.namespace(name);
      const remaining = await remainingKinds(tx, name);
      if (remaining.length > 0) {
        throw new FailedPreconditionError(`namespace ${JSON.stringify(name)} must be empty, but it still has ${remaining.join(', ')}`);
      }
      if ((await tx.get(key)) === undefined) throw new NotFoundError(`namespace ${JSON.stringify(name)}`);
      await tx.delTree(key);
      // Leases and ingests go with the namespace; what they held is now collectable.
      tx.dirty = true;
      this.core.contentDirty = true;
    });
  }
}

/** remainingKinds lists what keeps a namespace from being deleted, in containerd's order and words. */
async function remainingKinds(view: ReadView, ns: string): Promise<string[]> {
  const out: string[] = [];
  if (await view.hasChildren(KEYS.images(ns))) out.push('images');
  if (await view.hasChildren(KEYS.blobs(ns))) out.push('blobs');
  if (await view.hasChildren(KEYS.containers(ns))) out.push('containers');
  for await (const s of view.children(KEYS.snapshotters(ns))) {
    if (await view.hasChildren(s.key)) out.push(`snapshots on ${JSON.stringify(s.name)} snapshotter`);
  }
  return out;
}
