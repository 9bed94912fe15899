import { TypeUrls } from '@ctrd/api';
import { NamespaceCreate, NamespaceDelete, NamespaceUpdate } from '@ctrd/api/gen/containerd/events/namespace.js';
import { NamespacesService, type Namespace as WireNamespace } from '@ctrd/api/gen/containerd/services/namespaces/v1/namespace.js';
import { TOPICS } from '@ctrd/events';
import { bindService, type BoundService } from '@ctrd/grpc';
import type { Namespace } from '@ctrd/metadata';
import { mask, publishEvent } from './convert.js';
import type { ServiceDeps } from './deps.js';

function out(ns: Namespace): WireNamespace {
  return { name: ns.name, labels: { ...ns.labels } };
}

/**
 * namespacesService binds `containerd.services.namespaces.v1.Namespaces`. The namespace named in
 * a request is the one acted on; the header plays no part. Get of an unknown namespace answers
 * with no labels, as containerd does. Create, Update and Delete publish `/namespaces/*`.
 */
export function namespacesService({ metadata, publisher }: Pick<ServiceDeps, 'metadata' | 'publisher'>): BoundService {
  const store = metadata.namespaces;
  return bindService(NamespacesService, {
    async get(req) {
      return { namespace: out(await store.get(req.name)) };
    },
    async list() {
      return { namespaces: (await store.list()).map(out) };
    },
    async create(req) {
      const ns = await store.create(req.namespace?.name ?? '', req.namespace?.labels ?? {});
      await publishEvent(publisher, ns.name, TOPICS.namespaceCreate, TypeUrls.NamespaceCreate, NamespaceCreate, { name: ns.name, labels: ns.labels });
      return { namespace: out(ns) };
    },
    async update(req) {
      const ns = await store.update({ name: req.namespace?.name ?? '', labels: req.namespace?.labels ?? {} }, mask(req.updateMask));
      await publishEvent(publisher, ns.name, TOPICS.namespaceUpdate, TypeUrls.NamespaceUpdate, NamespaceUpdate, { name: ns.name, labels: ns.labels });
      return { namespace: out(ns) };
    },
    async delete(req) {
      await store.delete(req.name);
      await publishEvent(publisher, req.name, TOPICS.namespaceDelete, TypeUrls.NamespaceDelete, NamespaceDelete, { name: req.name });
      return {};
    },
  });
}
