import { RemoteNamespaceStore } from '@ctrd/client';
import { isNotFound } from '@ctrd/errdefs';
import type { GlobalArgs } from '../global.js';
import { formatLabels, parseLabelArgs } from '../format.js';
import { print, printJSON, table } from '../output.js';
import { eachItem, warn, withConnection } from './common.js';

/** NamespaceArgs are the arguments of the `namespaces` subcommands. */
export interface NamespaceArgs extends GlobalArgs {
  name?: string;
  names?: string[];
  labels?: string[];
  quiet?: boolean;
}

/** namespacesCreate creates a namespace with optional `k=v` labels. */
export async function namespacesCreate(argv: NamespaceArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const ns = await new RemoteNamespaceStore(conn).create(argv.name!, parseLabelArgs(argv.labels ?? []));
    if (argv.format === 'json') printJSON(ns);
  });
}

/** namespacesLs lists namespaces (NAME LABELS). */
export async function namespacesLs(argv: NamespaceArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const list = (await new RemoteNamespaceStore(conn).list()).sort((a, b) => a.name.localeCompare(b.name));
    if (argv.format === 'json') return printJSON(list);
    if (argv.quiet) return print(list.map((n) => n.name).join('\n'));
    print(table([['NAME', 'LABELS'], ...list.map((n) => [n.name, formatLabels(n.labels, '')])]));
  });
}

/** namespacesLabel sets (`k=v`) or clears (`k=`) labels of a namespace and prints the result. */
export async function namespacesLabel(argv: NamespaceArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteNamespaceStore(conn);
    const labels = parseLabelArgs(argv.labels ?? []);
    const keys = Object.keys(labels);
    const ns = keys.length === 0 ? await store.get(argv.name!) : await store.update({ name: argv.name!, labels }, keys.map((k) => `labels.${k}`));
    if (argv.format === 'json') return printJSON(ns);
    print(formatLabels(ns.labels, ''));
  });
}

/** namespacesRm removes namespaces, printing each name; a missing one only warns. */
export async function namespacesRm(argv: NamespaceArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteNamespaceStore(conn);
    await eachItem(
      argv.names ?? [],
      async (name) => {
        try {
          await store.delete(name);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          warn(`namespace ${name} not found`);
          return;
        }
        print(name);
      },
      (name) => `unable to delete ${name}`,
    );
  });
}
