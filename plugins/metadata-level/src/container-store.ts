import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import {
  adaptContainer,
  applyContainerUpdate,
  dropsGcReferences,
  checkNewContainer,
  filterBy,
  requireNamespace,
  type Container,
  type ContainerFields,
  type ContainerInput,
  type ContainerStore,
} from '@ctrd/metadata';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import { containerFromRecord, containerToRecord, type ContainerRecord } from './records.js';

/** LevelContainerStore implements {@link ContainerStore} on the metadata database. */
export class LevelContainerStore implements ContainerStore {
  constructor(private readonly core: MetaCore) {}

  async get(namespace: string, id: string): Promise<Container> {
    requireNamespace(namespace);
    const record = await this.core.get<ContainerRecord>(KEYS.container(namespace, id));
    if (!record) throw new NotFoundError(`container ${JSON.stringify(id)} in namespace ${JSON.stringify(namespace)}`);
    return containerFromRecord(id, record);
  }

  async list(namespace: string, filters?: readonly string[]): Promise<Container[]> {
    requireNamespace(namespace);
    const match = filterBy(filters, adaptContainer);
    const out: Container[] = [];
    for await (const r of this.core.records<ContainerRecord>(KEYS.containers(namespace))) {
      const c = containerFromRecord(r.name, r.value);
      if (match(c)) out.push(c);
    }
    return out;
  }

  async create(namespace: string, container: ContainerInput): Promise<Container> {
    requireNamespace(namespace);
    const fields = checkNewContainer(container);
    return this.core.write(async (tx) => {
      const key = KEYS.container(namespace, fields.id);
      if ((await tx.get(key)) !== undefined) throw new AlreadyExistsError(`container ${JSON.stringify(fields.id)}`);
      await this.core.ensureNamespace(tx, namespace);
      const now = new Date(this.core.stamp());
      const record = containerToRecord(fields, now, now);
      tx.put(key, record);
      return containerFromRecord(fields.id, record);
    });
  }

  async update(namespace: string, container: ContainerInput, fieldpaths?: readonly string[]): Promise<Container> {
    requireNamespace(namespace);
    if (!container.id) throw new InvalidArgumentError('must specify a container id');
    return this.core.write(async (tx) => {
      const key = KEYS.container(namespace, container.id);
      const current = await tx.get<ContainerRecord>(key);
      if (!current) throw new NotFoundError(`container ${JSON.stringify(container.id)}`);
      const stored = containerFromRecord(container.id, current);
      const next: ContainerFields = applyContainerUpdate(fieldsOf(stored), container, fieldpaths);
      const record = containerToRecord(next, stored.createdAt, new Date(this.core.stamp()));
      tx.put(key, record);
      // A new snapshot or dropped gc labels may leave the old resources unreferenced.
      tx.dirty = next.snapshotKey !== stored.snapshotKey || next.snapshotter !== stored.snapshotter || dropsGcReferences(stored.labels, next.labels);
      return containerFromRecord(container.id, record);
    });
  }

  async delete(namespace: string, id: string): Promise<void> {
    requireNamespace(namespace);
    await this.core.write(async (tx) => {
      const key = KEYS.container(namespace, id);
      if ((await tx.get(key)) === undefined) throw new NotFoundError(`container ${JSON.stringify(id)}`);
      tx.del(key);
      tx.dirty = true;
    });
  }
}

function fieldsOf(c: Container): ContainerFields {
  const { createdAt: _c, updatedAt: _u, ...fields } = c;
  return fields;
}
