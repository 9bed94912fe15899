import { randomBytes } from 'node:crypto';
import { RemoteLeaseManager } from '@ctrd/client';
import type { GlobalArgs } from '../global.js';
import { formatLabels, parseDuration, parseLabelArgs, rfc3339 } from '../format.js';
import { print, printJSON, table } from '../output.js';
import { withConnection } from './common.js';

/** GC_EXPIRE_LABEL holds the RFC 3339 time after which a lease protects nothing. */
const GC_EXPIRE_LABEL = 'containerd.io/gc.expire';

/** LeaseArgs are the arguments of the `leases` subcommands. */
export interface LeaseArgs extends GlobalArgs {
  ids?: string[];
  labels?: string[];
  filters?: string[];
  id?: string;
  expires?: string;
  quiet?: boolean;
  sync?: boolean;
}

/** randomLeaseId makes an ID like containerd's clients do: nanoseconds and a random suffix. */
function randomLeaseId(): string {
  return `${process.hrtime.bigint() % 1_000_000_000n}-${randomBytes(3).toString('base64url')}`;
}

/**
 * leasesCreate creates a lease (random ID unless `--id`) that expires after `--expires`
 * (24h by default, `0` for never) and prints its ID.
 */
export async function leasesCreate(argv: LeaseArgs): Promise<void> {
  const labels = parseLabelArgs(argv.labels ?? []);
  const expires = parseDuration(argv.expires ?? '24h');
  if (expires > 0) labels[GC_EXPIRE_LABEL] = new Date(Date.now() + expires).toISOString().replace(/\.\d+Z$/, 'Z');
  await withConnection(argv, async (conn) => {
    const lease = await new RemoteLeaseManager(conn).create(conn.namespace, { id: argv.id || randomLeaseId(), labels });
    if (argv.format === 'json') return printJSON(lease);
    print(lease.id);
  });
}

/** leasesLs lists leases (ID CREATED AT LABELS). */
export async function leasesLs(argv: LeaseArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const leases = await new RemoteLeaseManager(conn).list(conn.namespace, argv.filters ?? []);
    if (argv.format === 'json') return printJSON(leases);
    if (argv.quiet) return print(leases.map((l) => l.id).join('\n'));
    print(table([['ID', 'CREATED AT', 'LABELS'], ...leases.map((l) => [l.id, rfc3339(l.createdAt), formatLabels(l.labels)])]));
  });
}

/** leasesRm deletes leases, printing each ID; `--sync` waits for the collection after the last. */
export async function leasesRm(argv: LeaseArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const mgr = new RemoteLeaseManager(conn);
    const ids = argv.ids ?? [];
    for (const [i, id] of ids.entries()) {
      await mgr.delete(conn.namespace, id, { sync: (argv.sync ?? false) && i === ids.length - 1 });
      print(id);
    }
  });
}
