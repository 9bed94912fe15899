import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, NotImplementedError } from '@ctrd/errdefs';
import { digestProblem } from './digest.js';
import type { Lease, LeaseResource } from './leases.js';
import { mapField, nonEmpty, type FieldAdaptor } from './rules-common.js';

/** ParsedLeaseResource is a checked lease resource: its kind, and the snapshotter for snapshots. */
export type ParsedLeaseResource =
  | { kind: 'content'; id: string }
  | { kind: 'ingests'; id: string }
  | { kind: 'snapshots'; snapshotter: string; id: string };

/**
 * parseLeaseResource checks a resource's type and id: `content` needs a valid digest, `ingests`
 * any ref, `snapshots/<snapshotter>` a snapshotter name. A malformed type of a known kind is
 * InvalidArgument; any other kind NotImplemented `resource type <t> not supported yet`.
 */
export function parseLeaseResource(resource: LeaseResource): ParsedLeaseResource {
  const parts = resource.type.split('/');
  switch (parts[0]) {
    case 'content': {
      if (parts.length !== 1) throw new InvalidArgumentError(`invalid resource type ${resource.type}`);
      const problem = digestProblem(resource.id);
      if (problem !== undefined) throw new InvalidArgumentError(`invalid content resource id ${resource.id}: ${problem}`);
      return { kind: 'content', id: resource.id };
    }
    case 'ingests':
      if (parts.length !== 1) throw new InvalidArgumentError(`invalid resource type ${resource.type}`);
      return { kind: 'ingests', id: resource.id };
    case 'snapshots':
      if (parts.length !== 2 || parts[1] === '') throw new InvalidArgumentError(`invalid snapshot resource type ${resource.type}`);
      return { kind: 'snapshots', snapshotter: parts[1]!, id: resource.id };
    default:
      throw new NotImplementedError(`resource type ${resource.type} not supported yet`);
  }
}

/** leaseResourceType renders a parsed resource's type string (`content`, `ingests`, `snapshots/<name>`). */
export function leaseResourceType(r: ParsedLeaseResource): string {
  return r.kind === 'snapshots' ? `snapshots/${r.snapshotter}` : r.kind;
}

/** newLeaseId makes a random lease id in containerd's shape, `<nanoseconds>-<random base64url>`. */
export function newLeaseId(now: Date = new Date()): string {
  const nanos = (now.getTime() % 1000) * 1_000_000 + Number(process.hrtime.bigint() % 1_000_000n);
  return `${nanos}-${randomBytes(6).toString('base64url')}`;
}

/** adaptLease exposes a lease to filters: `id` and `labels.*`. */
export function adaptLease(lease: Lease): FieldAdaptor {
  return (fieldpath) => {
    if (fieldpath[0] === 'id') return nonEmpty(lease.id);
    if (fieldpath[0] === 'labels') return mapField(fieldpath.slice(1), lease.labels);
    return undefined;
  };
}
