import { TypeUrls } from '@ctrd/api';
import { ImageCreate, ImageDelete, ImageUpdate } from '@ctrd/api/gen/containerd/events/image.js';
import { ImagesService, type Image as WireImage } from '@ctrd/api/gen/containerd/services/images/v1/images.js';
import type { Descriptor as WireDescriptor } from '@ctrd/api/gen/containerd/types/descriptor.js';
import { TOPICS } from '@ctrd/events';
import { bindService, type BoundService } from '@ctrd/grpc';
import type { Descriptor, Image, ImageInput } from '@ctrd/metadata';
import { mask, publishEvent, ts } from './convert.js';
import { collectNow, type ServiceDeps } from './deps.js';

/** descriptorOut converts a Descriptor to the wire. */
export function descriptorOut(d: Descriptor): WireDescriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { ...d.annotations } };
}

/** descriptorIn converts a wire Descriptor; an absent one is empty (and fails validation). */
export function descriptorIn(d: WireDescriptor | undefined): Descriptor {
  return { mediaType: d?.mediaType ?? '', digest: d?.digest ?? '', size: d?.size ?? 0, annotations: { ...d?.annotations } };
}

function imageOut(i: Image): WireImage {
  return { name: i.name, labels: { ...i.labels }, target: descriptorOut(i.target), createdAt: ts(i.createdAt), updatedAt: ts(i.updatedAt) };
}

function imageIn(i: WireImage | undefined): ImageInput {
  return { name: i?.name ?? '', labels: { ...i?.labels }, target: descriptorIn(i?.target) };
}

/**
 * imagesService binds `containerd.services.images.v1.Images`. Create, Update and Delete publish
 * `/images/*` with the `containerd.services.images.v1` payloads. Delete schedules a collection;
 * with `sync` it answers only once a collection has run.
 */
export function imagesService(deps: ServiceDeps): BoundService {
  const { metadata, publisher } = deps;
  const store = metadata.images;
  return bindService(ImagesService, {
    async get(req, ctx) {
      return { image: imageOut(await store.get(ctx.namespace, req.name)) };
    },
    async list(req, ctx) {
      return { images: (await store.list(ctx.namespace, req.filters)).map(imageOut) };
    },
    async create(req, ctx) {
      const ns = ctx.namespace;
      const image = await store.create(ns, imageIn(req.image));
      await publishEvent(publisher, ns, TOPICS.imageCreate, TypeUrls.ImageCreate, ImageCreate, { name: image.name, labels: image.labels });
      return { image: imageOut(image) };
    },
    async update(req, ctx) {
      const ns = ctx.namespace;
      const image = await store.update(ns, imageIn(req.image), mask(req.updateMask));
      await publishEvent(publisher, ns, TOPICS.imageUpdate, TypeUrls.ImageUpdate, ImageUpdate, { name: image.name, labels: image.labels });
      return { image: imageOut(image) };
    },
    async delete(req, ctx) {
      const ns = ctx.namespace;
      await store.delete(ns, req.name);
      await publishEvent(publisher, ns, TOPICS.imageDelete, TypeUrls.ImageDelete, ImageDelete, { name: req.name });
      if (req.sync) await collectNow(deps);
      return {};
    },
  });
}
