import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import {
  adaptImage,
  applyImageUpdate,
  compactMap,
  filterBy,
  normalizeDescriptor,
  requireNamespace,
  validateImage,
  type Image,
  type ImageInput,
  type ImageStore,
  dropsGcReferences,
} from '@ctrd/metadata';
import type { MetaCore } from './core.js';
import { KEYS } from './keys.js';
import { imageFromRecord, type ImageRecord } from './records.js';

/** LevelImageStore implements {@link ImageStore} on the metadata database. */
export class LevelImageStore implements ImageStore {
  constructor(private readonly core: MetaCore) {}

  async get(namespace: string, name: string): Promise<Image> {
    requireNamespace(namespace);
    const record = await this.core.get<ImageRecord>(KEYS.image(namespace, name));
    if (!record) throw new NotFoundError(`image ${JSON.stringify(name)}`);
    return imageFromRecord(name, record);
  }

  async list(namespace: string, filters?: readonly string[]): Promise<Image[]> {
    requireNamespace(namespace);
    const match = filterBy(filters, adaptImage);
    const out: Image[] = [];
    for await (const r of this.core.records<ImageRecord>(KEYS.images(namespace))) {
      const image = imageFromRecord(r.name, r.value);
      if (match(image)) out.push(image);
    }
    return out;
  }

  async create(namespace: string, image: ImageInput): Promise<Image> {
    requireNamespace(namespace);
    validateImage(image);
    return this.core.write(async (tx) => {
      const key = KEYS.image(namespace, image.name);
      if ((await tx.get(key)) !== undefined) throw new AlreadyExistsError(`image ${JSON.stringify(image.name)}`);
      await this.core.ensureNamespace(tx, namespace);
      const now = this.core.stamp();
      const record: ImageRecord = {
        labels: compactMap(image.labels),
        target: normalizeDescriptor(image.target),
        createdAt: now,
        updatedAt: now,
      };
      tx.put(key, record);
      return imageFromRecord(image.name, record);
    });
  }

  async update(namespace: string, image: ImageInput, fieldpaths?: readonly string[]): Promise<Image> {
    requireNamespace(namespace);
    if (!image.name) throw new InvalidArgumentError('image name is required for update');
    return this.core.write(async (tx) => {
      const key = KEYS.image(namespace, image.name);
      const current = await tx.get<ImageRecord>(key);
      if (!current) throw new NotFoundError(`image ${JSON.stringify(image.name)}`);
      const next = applyImageUpdate({ name: image.name, labels: current.labels, target: current.target }, image, fieldpaths);
      const record: ImageRecord = {
        labels: next.labels ?? {},
        target: next.target,
        createdAt: current.createdAt,
        updatedAt: this.core.stamp(),
      };
      tx.put(key, record);
      // A new target or dropped gc labels may leave the old blobs unreferenced.
      tx.dirty = record.target.digest !== current.target.digest || dropsGcReferences(current.labels, record.labels);
      return imageFromRecord(image.name, record);
    });
  }

  async delete(namespace: string, name: string): Promise<void> {
    requireNamespace(namespace);
    await this.core.write(async (tx) => {
      const key = KEYS.image(namespace, name);
      if ((await tx.get(key)) === undefined) throw new NotFoundError(`image ${JSON.stringify(name)}`);
      tx.del(key);
      tx.dirty = true;
    });
  }
}
