import { LeasesService, type Lease as WireLease } from '@ctrd/api/gen/containerd/services/leases/v1/leases.js';
import { bindService, type BoundService } from '@ctrd/grpc';
import type { Lease, LeaseResource } from '@ctrd/metadata';
import { ts } from './convert.js';
import { collectNow, type ServiceDeps } from './deps.js';

function leaseOut(l: Lease): WireLease {
  return { id: l.id, createdAt: ts(l.createdAt), labels: { ...l.labels } };
}

function resourceIn(r: { id: string; type: string } | undefined): LeaseResource {
  return { id: r?.id ?? '', type: r?.type ?? '' };
}

/**
 * leasesService binds `containerd.services.leases.v1.Leases`. Delete schedules a collection, and
 * with `sync` answers only once one has run. containerd publishes no lease events.
 */
export function leasesService(deps: Pick<ServiceDeps, 'metadata' | 'gc'>): BoundService {
  const store = deps.metadata.leases;
  return bindService(LeasesService, {
    async create(req, ctx) {
      return { lease: leaseOut(await store.create(ctx.namespace, { id: req.id || undefined, labels: { ...req.labels } })) };
    },
    async delete(req, ctx) {
      await store.delete(ctx.namespace, req.id);
      if (req.sync) await collectNow(deps);
      return {};
    },
    async list(req, ctx) {
      return { leases: (await store.list(ctx.namespace, req.filters)).map(leaseOut) };
    },
    async addResource(req, ctx) {
      await store.addResource(ctx.namespace, req.id, resourceIn(req.resource));
      return {};
    },
    async deleteResource(req, ctx) {
      await store.deleteResource(ctx.namespace, req.id, resourceIn(req.resource));
      return {};
    },
    async listResources(req, ctx) {
      return { resources: await store.listResources(ctx.namespace, req.id) };
    },
  });
}
