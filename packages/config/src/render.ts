import { stringify } from 'smol-toml';
import type { ConfigSchema, FieldSpec } from '@ctrd/plugin/schema';
import { uriOf, type Registration } from '@ctrd/plugin/types';
import { defaultConfig, TOP_SCHEMA, type DaemonConfig } from './schema.js';

type Table = Record<string, unknown>;

function quoteKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

function scalar(v: unknown): string {
  // stringify renders a one-key table `k = <value>`; keep the right-hand side.
  const line = stringify({ v }).trim();
  return line.slice(line.indexOf('=') + 1).trim();
}

function isNested(spec: FieldSpec | undefined, v: unknown): boolean {
  if (spec) return spec.type === 'table' || spec.type === 'tables' || spec.type === 'map';
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function comment(doc: string | undefined, comments: boolean): string {
  return comments && doc ? `# ${doc}\n` : '';
}

function section(header: string, schema: ConfigSchema | undefined, values: Table, comments: boolean, doc?: string): string {
  let out = '';
  const nested: string[] = [];
  let body = '';
  for (const [k, v] of Object.entries(values)) {
    const spec = schema?.[k];
    if (v === undefined) continue;
    if (isNested(spec, v)) {
      const path = `${header}.${quoteKey(k)}`;
      if (spec?.type === 'tables') {
        const entries = Object.entries(v as Table);
        if (entries.length === 0) {
          nested.push(`${comment(spec.doc, comments)}${comments ? `# [${path}.<name>]\n` : ''}`);
        }
        for (const [name, sub] of entries) nested.push(section(`${path}.${quoteKey(name)}`, spec.fields, sub as Table, comments, spec.doc));
      } else {
        nested.push(section(path, spec?.type === 'table' ? spec.fields : undefined, v as Table, comments, spec?.doc));
      }
      continue;
    }
    body += `${comment(spec?.doc, comments)}${quoteKey(k)} = ${scalar(v)}\n`;
  }
  out += `${comment(doc, comments)}[${header}]\n${body}`;
  for (const n of nested) out += `\n${n}`;
  return out;
}

/**
 * renderConfig prints a config as TOML, every plugin's section included, with each key's
 * documentation as a comment when `comments` is set. Plugin sections appear in registration
 * order; a plugin with no config gets no section.
 */
export function renderConfig(config: DaemonConfig, registrations: readonly Registration[], comments = true): string {
  const { plugins, ...top } = config;
  let out = '';
  let body = '';
  const tables: string[] = [];
  for (const [k, v] of Object.entries(top)) {
    const spec = TOP_SCHEMA[k];
    if (isNested(spec, v)) {
      if (spec?.type === 'tables') {
        const entries = Object.entries(v as Table);
        if (entries.length === 0 && comments) tables.push(`${comment(spec.doc, comments)}# [${k}.<name>]\n`);
        for (const [name, sub] of entries) tables.push(section(`${k}.${quoteKey(name)}`, spec.fields, sub as Table, comments, spec.doc));
      } else {
        tables.push(section(k, spec?.type === 'table' ? spec.fields : undefined, v as Table, comments, spec?.doc));
      }
      continue;
    }
    body += `${comment(spec?.doc, comments)}${k} = ${scalar(v)}\n`;
  }
  out += body;
  for (const t of tables) out += `\n${t}`;
  const byUri = new Map(registrations.map((r) => [uriOf(r), r]));
  const seen = new Set<string>();
  for (const r of registrations) {
    const uri = uriOf(r);
    if (!r.config) continue;
    seen.add(uri);
    const values = (plugins[uri] as Table | undefined) ?? (r.config.defaults as Table);
    out += `\n${section(`plugins.${JSON.stringify(uri)}`, r.config.schema, values, comments)}`;
  }
  for (const [uri, v] of Object.entries(plugins)) {
    if (seen.has(uri) || byUri.get(uri)?.config === undefined && byUri.has(uri)) continue;
    out += `\n${section(`plugins.${JSON.stringify(uri)}`, undefined, v as Table, comments)}`;
  }
  return out;
}

/** renderDefaultConfig prints the built-in defaults with every registered plugin's section. */
export function renderDefaultConfig(registrations: readonly Registration[]): string {
  const config = defaultConfig();
  for (const r of registrations) if (r.config) config.plugins[uriOf(r)] = r.config.defaults;
  return renderConfig(config, registrations, true);
}
