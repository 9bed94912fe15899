import { InvalidArgumentError } from '@ctrd/errdefs';

/**
 * FieldSpec describes one config key: its TOML type and a line of documentation that
 * `ctrd config default` prints above it. Keys are snake_case, as in containerd's TOML.
 */
export type FieldSpec =
  | { type: 'string'; doc: string; enum?: readonly string[] }
  | { type: 'integer'; doc: string; min?: number; max?: number }
  | { type: 'number'; doc: string; min?: number; max?: number }
  | { type: 'boolean'; doc: string }
  /** a Go-style duration string such as `100ms`, `10s`, `1h30m`. */
  | { type: 'duration'; doc: string }
  | { type: 'string[]'; doc: string }
  /** a free-form table of string values. */
  | { type: 'map'; doc: string }
  /** a nested table with its own schema. */
  | { type: 'table'; doc: string; fields: ConfigSchema }
  /** a table of named tables sharing one schema (e.g. `[runtimes.<name>]`). */
  | { type: 'tables'; doc: string; fields: ConfigSchema };

/** ConfigSchema maps each key of a config section to its spec. */
export type ConfigSchema = Readonly<Record<string, FieldSpec>>;

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseDuration parses a Go duration (`1h2m3.5s`, `100ms`, `0`) into milliseconds. */
export function parseDuration(s: string): number {
  const str = s.trim();
  if (str === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let sign = 1;
  let rest = str;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) {
    total += parseFloat(m[1]!) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (rest === '' || matched !== rest.length) throw new InvalidArgumentError(`invalid duration "${s}"`);
  return sign * total;
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'datetime';
  return typeof v;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * validateSection checks a config section against its schema and returns the defaults merged
 * with it. An unknown key or a wrongly typed value is an InvalidArgumentError naming the key
 * and `where` (e.g. `[plugins."io.containerd.content.v1.content"]`).
 */
export function validateSection<C>(schema: ConfigSchema, defaults: C, input: unknown, where: string): C {
  const base = structuredClone(defaults) as Record<string, unknown>;
  if (input === undefined) return base as C;
  if (!isTable(input)) throw new InvalidArgumentError(`${where} must be a table, got ${typeName(input)}`);
  for (const [key, value] of Object.entries(input)) {
    const spec = schema[key];
    if (!spec) throw new InvalidArgumentError(`unknown key "${key}" in ${where}`);
    base[key] = checkValue(spec, value, base[key], where, key);
  }
  return base as C;
}

function checkValue(spec: FieldSpec, value: unknown, current: unknown, where: string, key: string): unknown {
  const bad = (want: string) => new InvalidArgumentError(`key "${key}" in ${where} must be ${want}, got ${typeName(value)}`);
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') throw bad('a string');
      if (spec.enum && !spec.enum.includes(value)) {
        throw new InvalidArgumentError(`key "${key}" in ${where} must be one of ${spec.enum.map((e) => `"${e}"`).join(', ')}, got "${value}"`);
      }
      return value;
    case 'integer':
    case 'number': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n)) throw bad(`${spec.type === 'integer' ? 'an integer' : 'a number'}`);
      if (spec.type === 'integer' && !Number.isInteger(n)) throw bad('an integer');
      if (spec.min !== undefined && n < spec.min) throw new InvalidArgumentError(`key "${key}" in ${where} must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw new InvalidArgumentError(`key "${key}" in ${where} must be at most ${spec.max}`);
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('a boolean');
      return value;
    case 'duration':
      if (typeof value !== 'string') throw bad('a duration string such as "10s"');
      try {
        parseDuration(value);
      } catch {
        throw new InvalidArgumentError(`key "${key}" in ${where} must be a duration such as "10s" or "1m30s", got "${value}"`);
      }
      return value;
    case 'string[]':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad('an array of strings');
      return [...value];
    case 'map':
      if (!isTable(value) || Object.values(value).some((v) => typeof v !== 'string')) throw bad('a table of strings');
      return { ...value };
    case 'table':
      return validateSection(spec.fields, current ?? {}, value, `${where}.${key}`);
    case 'tables': {
      if (!isTable(value)) throw bad('a table');
      const out: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) {
        out[name] = validateSection(spec.fields, {}, sub, `${where}.${key}.${name}`);
      }
      return out;
    }
  }
}
