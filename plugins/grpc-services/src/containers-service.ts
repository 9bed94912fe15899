import { FailedPreconditionError } from '@ctrd/errdefs';
import { TypeUrls } from '@ctrd/api';
import { ContainerCreate, ContainerDelete, ContainerUpdate } from '@ctrd/api/gen/containerd/events/container.js';
import { ContainersService, type Container as WireContainer } from '@ctrd/api/gen/containerd/services/containers/v1/containers.js';
import type { Any } from '@ctrd/api';
import { TOPICS } from '@ctrd/events';
import { bindService, type BoundService } from '@ctrd/grpc';
import type { Container, ContainerInput } from '@ctrd/metadata';
import { anyIn, anyOut, mask, publishEvent, ts } from './convert.js';
import type { ServiceDeps } from './deps.js';

function containerOut(c: Container): WireContainer {
  const extensions: Record<string, Any> = {};
  for (const [k, v] of Object.entries(c.extensions)) extensions[k] = anyOut(v);
  return {
    id: c.id,
    labels: { ...c.labels },
    image: c.image,
    runtime: { name: c.runtime.name, options: c.runtime.options ? anyOut(c.runtime.options) : undefined },
    spec: c.spec ? anyOut(c.spec) : undefined,
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    createdAt: ts(c.createdAt),
    updatedAt: ts(c.updatedAt),
    extensions,
  };
}

function containerIn(c: WireContainer | undefined): ContainerInput {
  const extensions: ContainerInput['extensions'] = {};
  for (const [k, v] of Object.entries(c?.extensions ?? {})) {
    const a = anyIn(v);
    if (a) extensions[k] = a;
  }
  return {
    id: c?.id ?? '',
    labels: { ...c?.labels },
    image: c?.image ?? '',
    runtime: { name: c?.runtime?.name ?? '', options: anyIn(c?.runtime?.options) },
    spec: anyIn(c?.spec),
    snapshotter: c?.snapshotter ?? '',
    snapshotKey: c?.snapshotKey ?? '',
    extensions,
  };
}

/**
 * containersService binds `containerd.services.containers.v1.Containers`, ListStream included.
 * Create, Update and Delete publish `/containers/*`; Delete schedules a collection, since the
 * container's snapshot and image content may now be unreferenced.
 */
export function containersService(deps: ServiceDeps): BoundService {
  const { metadata, publisher } = deps;
  const store = metadata.containers;
  return bindService(ContainersService, {
    async get(req, ctx) {
      return { container: containerOut(await store.get(ctx.namespace, req.id)) };
    },
    async list(req, ctx) {
      return { containers: (await store.list(ctx.namespace, req.filters)).map(containerOut) };
    },
    async *listStream(req, ctx) {
      for (const c of await store.list(ctx.namespace, req.filters)) yield { container: containerOut(c) };
    },
    async create(req, ctx) {
      const ns = ctx.namespace;
      const c = await store.create(ns, containerIn(req.container));
      const runtime = { name: c.runtime.name, options: c.runtime.options ? anyOut(c.runtime.options) : undefined };
      await publishEvent(publisher, ns, TOPICS.containerCreate, TypeUrls.ContainerCreate, ContainerCreate, { id: c.id, image: c.image, runtime });
      return { container: containerOut(c) };
    },
    async update(req, ctx) {
      const ns = ctx.namespace;
      const c = await store.update(ns, containerIn(req.container), mask(req.updateMask));
      await publishEvent(publisher, ns, TOPICS.containerUpdate, TypeUrls.ContainerUpdate, ContainerUpdate, {
        id: c.id, image: c.image, labels: c.labels, snapshotKey: c.snapshotKey,
      });
      return { container: containerOut(c) };
    },
    async delete(req, ctx) {
      const ns = ctx.namespace;
      const status = await deps.taskStatus?.(ns, req.id);
      if (status !== undefined && status !== 'stopped') {
        throw new FailedPreconditionError(`cannot delete container "${req.id}": its task is ${status}`);
      }
      await store.delete(ns, req.id);
      await publishEvent(publisher, ns, TOPICS.containerDelete, TypeUrls.ContainerDelete, ContainerDelete, { id: req.id });
      return {};
    },
  });
}
