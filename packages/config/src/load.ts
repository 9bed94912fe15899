import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { InvalidArgumentError, NotFoundError } from '@ctrd/errdefs';
import { validateSection } from '@ctrd/plugin/schema';
import { uriOf, type Registration } from '@ctrd/plugin/types';
import { defaultConfig, TOP_SCHEMA, type DaemonConfig } from './schema.js';
import { DEFAULT_TIMEOUTS, parseTimeouts } from './timeouts.js';

/** ConfigOverrides are the daemon flags that win over the file. */
export interface ConfigOverrides {
  root?: string;
  state?: string;
  address?: string;
  logLevel?: string;
}

/** LoadedConfig is a validated config plus what was noticed on the way. */
export interface LoadedConfig {
  config: DaemonConfig;
  /** non-fatal findings, e.g. a section for a plugin that is not registered. */
  warnings: string[];
  /** the files read, main file first; empty for the built-in defaults. */
  files: string[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

async function readToml(file: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`config file ${file}`, { cause: err });
    throw err;
  }
  return parseText(text, file);
}

function parseText(text: string, file: string): Table {
  try {
    return parseToml(text) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    throw new InvalidArgumentError(`${file}: invalid TOML${where}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/** merge lays `over` onto `base`: tables merge key by key, everything else is replaced. */
function merge(base: Table, over: Table): Table {
  const out: Table = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTable(v) && isTable(out[k]) ? merge(out[k] as Table, v) : v;
  }
  return out;
}

async function withImports(file: string, seen: Set<string>): Promise<{ raw: Table; files: string[] }> {
  const abs = resolve(file);
  if (seen.has(abs)) throw new InvalidArgumentError(`config import cycle at ${abs}`);
  seen.add(abs);
  let raw = await readToml(abs);
  const files = [abs];
  const imports = raw.imports;
  if (imports !== undefined && (!Array.isArray(imports) || imports.some((i) => typeof i !== 'string'))) {
    throw new InvalidArgumentError(`${abs}: key "imports" must be an array of strings`);
  }
  for (const imp of (imports as string[] | undefined) ?? []) {
    const path = isAbsolute(imp) ? imp : resolve(dirname(abs), imp);
    const sub = await withImports(path, seen);
    const { imports: _ignored, ...rest } = sub.raw;
    raw = merge(raw, rest);
    files.push(...sub.files);
  }
  return { raw, files };
}

/**
 * validateConfig checks a raw TOML table: top-level keys against TOP_SCHEMA (an unknown key is
 * an InvalidArgumentError naming it) and each `[plugins."<uri>"]` section against that plugin's
 * schema (an unknown key names the key and the plugin). A section for a plugin that is not
 * registered is kept and only warned about.
 */
export function validateConfig(raw: Table, registrations: readonly Registration[], where = 'config'): LoadedConfig {
  const { plugins, ...top } = raw;
  const config = validateSection(TOP_SCHEMA, defaultConfig(), top, where) as DaemonConfig;
  // A [timeouts] table sets only the keys it names; the others keep their defaults.
  config.timeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
  parseTimeouts(config.timeouts);
  checkProxyPlugins(config);
  const warnings: string[] = [];
  if (plugins !== undefined && !isTable(plugins)) throw new InvalidArgumentError(`${where}: [plugins] must be a table`);
  const byUri = new Map(registrations.map((r) => [uriOf(r), r]));
  config.plugins = {};
  for (const [uri, section] of Object.entries((plugins as Table | undefined) ?? {})) {
    const reg = byUri.get(uri);
    if (!reg) {
      warnings.push(`config has a section for plugin "${uri}", which is not registered; ignoring it`);
      config.plugins[uri] = section;
      continue;
    }
    const cfg = reg.config;
    if (!cfg) {
      if (isTable(section) && Object.keys(section).length > 0) {
        throw new InvalidArgumentError(`unknown key "${Object.keys(section)[0]}" in [plugins."${uri}"]: the plugin takes no config`);
      }
      continue;
    }
    config.plugins[uri] = validateSection(cfg.schema, cfg.defaults, section, `[plugins."${uri}"]`);
  }
  for (const uri of [...config.disabled_plugins, ...config.required_plugins]) {
    if (!byUri.has(uri)) warnings.push(`plugin "${uri}" named in the config is not registered`);
  }
  return { config, warnings, files: [] };
}

/** checkProxyPlugins rejects a `[proxy_plugins.<name>]` table without a type or an address. */
function checkProxyPlugins(config: DaemonConfig): void {
  for (const [name, pp] of Object.entries(config.proxy_plugins)) {
    if (!name) throw new InvalidArgumentError('[proxy_plugins] needs a non-empty plugin name');
    if (!pp.type) throw new InvalidArgumentError(`[proxy_plugins.${name}] needs a type: "snapshot" or "content"`);
    if (!pp.address) throw new InvalidArgumentError(`[proxy_plugins.${name}] needs an address`);
  }
}

/** applyOverrides lays daemon flags over a config. */
export function applyOverrides(config: DaemonConfig, o: ConfigOverrides): DaemonConfig {
  if (o.root) config.root = o.root;
  if (o.state) config.state = o.state;
  if (o.address) config.grpc.address = o.address;
  if (o.logLevel) config.debug.level = o.logLevel;
  return config;
}

/**
 * loadConfig reads `path` (with its imports) or, when no path is given, `fallback` if it exists,
 * else the built-in defaults; validates it against the registered plugins and applies overrides.
 */
export async function loadConfig(opts: {
  path?: string;
  fallback?: string;
  registrations: readonly Registration[];
  overrides?: ConfigOverrides;
}): Promise<LoadedConfig> {
  let raw: Table = {};
  let files: string[] = [];
  let file = opts.path;
  if (!file && opts.fallback) {
    try {
      await readFile(opts.fallback, { flag: 'r' });
      file = opts.fallback;
    } catch {
      file = undefined;
    }
  }
  if (file) ({ raw, files } = await withImports(file, new Set()));
  const loaded = validateConfig(raw, opts.registrations, files[0] ?? 'config');
  loaded.files = files;
  applyOverrides(loaded.config, opts.overrides ?? {});
  return loaded;
}

/** parseConfigText validates TOML text directly (used by tests and `config` commands). */
export function parseConfigText(text: string, registrations: readonly Registration[]): LoadedConfig {
  return validateConfig(parseText(text, 'config'), registrations);
}

/** ttrpcAddressOf returns the ttrpc socket: `[ttrpc] address`, or `<grpc address>.ttrpc`. */
export function ttrpcAddressOf(config: DaemonConfig): string {
  return config.ttrpc.address || `${config.grpc.address}.ttrpc`;
}
