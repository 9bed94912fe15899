import { fromTimestamp } from '@ctrd/api';
import { ImagesClient, type Image as WireImage } from '@ctrd/api/gen/containerd/services/images/v1/images.js';
import type { Image, ImageInput, ImageStore } from '@ctrd/metadata';
import type { Connection } from './connection.js';

function imageIn(i: WireImage | undefined): Image {
  const t = i?.target;
  const target = { mediaType: t?.mediaType ?? '', digest: t?.digest ?? '', size: t?.size ?? 0, ...(t && Object.keys(t.annotations).length > 0 ? { annotations: { ...t.annotations } } : {}) };
  return { name: i?.name ?? '', labels: { ...i?.labels }, target, createdAt: fromTimestamp(i?.createdAt) ?? new Date(0), updatedAt: fromTimestamp(i?.updatedAt) ?? new Date(0) };
}

function imageOut(i: ImageInput): WireImage {
  return {
    name: i.name,
    labels: { ...i.labels },
    target: i.target ? { mediaType: i.target.mediaType, digest: i.target.digest, size: i.target.size, annotations: { ...i.target.annotations } } : undefined,
  };
}

/** ImageDeleteOptions: `sync` waits for a garbage collection before answering. */
export interface ImageDeleteOptions {
  sync?: boolean;
}

/** RemoteImageStore is the ImageStore contract over the daemon's Images service. */
export class RemoteImageStore implements ImageStore {
  readonly #conn: Connection;
  readonly #client: ImagesClient;

  constructor(conn: Connection) {
    this.#conn = conn;
    this.#client = conn.client(ImagesClient);
  }

  async get(namespace: string, name: string): Promise<Image> {
    const c = this.#client;
    return imageIn((await this.#conn.unary(c, c.get, { name }, { namespace })).image);
  }

  async list(namespace: string, filters?: readonly string[]): Promise<Image[]> {
    const c = this.#client;
    return (await this.#conn.unary(c, c.list, { filters: [...(filters ?? [])] }, { namespace })).images.map(imageIn);
  }

  async create(namespace: string, image: ImageInput): Promise<Image> {
    const c = this.#client;
    return imageIn((await this.#conn.unary(c, c.create, { image: imageOut(image) }, { namespace })).image);
  }

  async update(namespace: string, image: ImageInput, fieldpaths?: readonly string[]): Promise<Image> {
    const c = this.#client;
    return imageIn((await this.#conn.unary(c, c.update, { image: imageOut(image), updateMask: [...(fieldpaths ?? [])] }, { namespace })).image);
  }

  async delete(namespace: string, name: string, opts: ImageDeleteOptions = {}): Promise<void> {
    const c = this.#client;
    await this.#conn.unary(c, c.delete, { name, sync: opts.sync ?? false }, { namespace });
  }
}
