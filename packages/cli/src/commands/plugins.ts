import { listPlugins, type PluginDescription } from '@ctrd/client';
import { connection, type GlobalArgs } from '../global.js';
import { humanDuration, print, printJSON, table } from '../output.js';

/** PluginsArgs are `plugins ls`'s own options. */
export interface PluginsArgs extends GlobalArgs {
  filters: string[];
  detailed: boolean;
  quiet: boolean;
}

/** pluginsLs lists plugins as ctr does (TYPE ID PLATFORMS STATUS), or in detail. */
export async function pluginsLs(argv: PluginsArgs): Promise<void> {
  const conn = await connection(argv);
  try {
    const plugins = await listPlugins(conn, argv.filters);
    if (argv.format === 'json') return printJSON(plugins);
    if (argv.quiet) return print(plugins.map((p) => `${p.type}.${p.id}`).join('\n'));
    if (!argv.detailed) {
      const rows = [['TYPE', 'ID', 'PLATFORMS', 'STATUS'], ...plugins.map((p) => [p.type, p.id, p.platforms.join(',') || '-', p.status])];
      return print(table(rows));
    }
    print(plugins.map(detail).join('\n'));
  } finally {
    conn.close();
  }
}

function detail(p: PluginDescription): string {
  const lines = [`Type:          ${p.type}`, `ID:            ${p.id}`, `Status:        ${p.status}`];
  if (p.initMs !== undefined) lines.push(`Init time:     ${humanDuration(p.initMs)}`);
  if (p.requires.length) lines.push(`Requires:\n${p.requires.map((r) => `               ${r}`).join('\n')}`);
  if (p.platforms.length) lines.push(`Platforms:     ${p.platforms.join(', ')}`);
  const exp = Object.entries(p.exports);
  if (exp.length) lines.push(`Exports:\n${exp.map(([k, v]) => `               ${k}  ${v}`).join('\n')}`);
  if (p.capabilities.length) lines.push(`Capabilities:  ${p.capabilities.join(', ')}`);
  if (p.error) lines.push(`Error:\n               Code:     ${p.error.code}\n               Message:  ${p.error.message}`);
  return lines.join('\n') + '\n';
}

/**
 * pluginsTree prints the dependency graph: each plugin under the plugins it requires, in init
 * order, with its init time.
 */
export async function pluginsTree(argv: GlobalArgs): Promise<void> {
  const conn = await connection(argv);
  try {
    const plugins = await listPlugins(conn);
    if (argv.format === 'json') return printJSON(plugins.map((p) => ({ uri: `${p.type}.${p.id}`, requires: p.requires, initMs: p.initMs, status: p.status })));
    const dependents = new Map<PluginDescription, PluginDescription[]>();
    const roots: PluginDescription[] = [];
    for (const p of plugins) {
      const deps = p.requires.includes('*') ? [] : plugins.filter((o) => o !== p && p.requires.includes(o.type));
      if (deps.length === 0) roots.push(p);
      for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), p]);
    }
    const out: string[] = [];
    const walk = (p: PluginDescription, prefix: string, last: boolean, depth: number, path: Set<PluginDescription>) => {
      const time = p.initMs !== undefined ? ` (${humanDuration(p.initMs)})` : '';
      const status = p.status === 'ok' ? '' : ` [${p.status}]`;
      out.push(`${prefix}${depth === 0 ? '' : last ? '└── ' : '├── '}${p.type}.${p.id}${time}${status}`);
      const kids = (dependents.get(p) ?? []).filter((k) => !path.has(k));
      kids.forEach((k, i) => walk(k, depth === 0 ? '' : prefix + (last ? '    ' : '│   '), i === kids.length - 1, depth + 1, new Set([...path, k])));
    };
    for (const r of roots) walk(r, '', true, 0, new Set([r]));
    const star = plugins.filter((p) => p.requires.includes('*'));
    for (const s of star) out.push(`${s.type}.${s.id} (requires every other plugin)`);
    print(out.join('\n'));
  } finally {
    conn.close();
  }
}
