/**
 * A deliberately small .proto reader used by the conformance test to compare ctrd's protos
 * with containerd's. It understands packages, (nested) messages, enums, oneofs, fields,
 * map fields and services with their methods, which is all either side uses; options in
 * brackets and comments are skipped. It is not a general parser.
 */

/** OutlineField is one message field as written in a .proto file. */
export interface OutlineField {
  name: string;
  number: number;
  /** The type as written, with any package qualifier, e.g. `containerd.types.Mount`. */
  type: string;
  repeated: boolean;
}

/** OutlineMethod is one rpc of a service. */
export interface OutlineMethod {
  input: string;
  output: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

/** ProtoOutline is what {@link parseProtoOutline} extracts from one file, keyed by full name. */
export interface ProtoOutline {
  package: string;
  messages: Map<string, Map<number, OutlineField>>;
  services: Map<string, Map<string, OutlineMethod>>;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

/** Removes `[ ... ]` option lists, which may contain nested quotes and dots. */
function stripFieldOptions(text: string): string {
  return text.replace(/\[[^\]]*\]/g, ' ');
}

const FIELD = /^(repeated\s+|optional\s+)?(map\s*<\s*[\w.]+\s*,\s*[\w.]+\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)$/;
const RPC = /^rpc\s+(\w+)\s*\(\s*(stream\s+)?([\w.]+)\s*\)\s*returns\s*\(\s*(stream\s+)?([\w.]+)\s*\)$/;

/** parseProtoOutline reads the packages, messages and services of one .proto source text. */
export function parseProtoOutline(source: string): ProtoOutline {
  const text = stripFieldOptions(stripComments(source));
  const outline: ProtoOutline = { package: '', messages: new Map(), services: new Map() };
  // Each scope is a block we are inside: its kind and, for messages and services, its full name.
  const scopes: { kind: string; name: string }[] = [];
  const fullName = (name: string): string => {
    const parent = [...scopes].reverse().find((s) => s.kind === 'message');
    if (parent) return `${parent.name}.${name}`;
    return outline.package ? `${outline.package}.${name}` : name;
  };

  // Split into statements at `;`, `{` and `}`, keeping the delimiter to know which it was.
  const tokens = text.split(/([;{}])/);
  for (let i = 0; i < tokens.length; i += 2) {
    const stmt = (tokens[i] ?? '').replace(/\s+/g, ' ').trim();
    const delim = tokens[i + 1];
    if (delim === '{') {
      const m = /^(message|enum|service|oneof|extend)\s+([\w.]+)$/.exec(stmt) ?? /^(rpc)\b/.exec(stmt);
      const kind = m?.[1] ?? 'other';
      const name = m?.[2] ?? '';
      if (kind === 'rpc') handleRpc(stmt, scopes, outline);
      const full = kind === 'message' || kind === 'service' ? fullName(name) : name;
      if (kind === 'message') outline.messages.set(full, new Map());
      if (kind === 'service') outline.services.set(full, new Map());
      scopes.push({ kind, name: full });
      continue;
    }
    if (delim === '}') {
      if (stmt) handleStatement(stmt, scopes, outline);
      scopes.pop();
      continue;
    }
    if (stmt) handleStatement(stmt, scopes, outline);
  }
  return outline;
}

function handleStatement(stmt: string, scopes: { kind: string; name: string }[], outline: ProtoOutline): void {
  const pkg = /^package\s+([\w.]+)$/.exec(stmt);
  if (pkg) {
    outline.package = pkg[1]!;
    return;
  }
  const scope = scopes[scopes.length - 1];
  if (scope?.kind === 'service') {
    handleRpc(stmt, scopes, outline);
    return;
  }
  // Fields belong to the innermost message; a oneof's fields belong to its message too.
  const owner = [...scopes].reverse().find((s) => s.kind === 'message' || s.kind === 'enum');
  if (owner?.kind !== 'message' || (scope?.kind !== 'message' && scope?.kind !== 'oneof')) return;
  const f = FIELD.exec(stmt);
  if (!f) return;
  const type = f[2]!.replace(/\s+/g, '');
  outline.messages.get(owner.name)!.set(Number(f[4]), {
    name: f[3]!,
    number: Number(f[4]),
    type,
    repeated: f[1]?.trim() === 'repeated',
  });
}

function handleRpc(stmt: string, scopes: { kind: string; name: string }[], outline: ProtoOutline): void {
  const service = [...scopes].reverse().find((s) => s.kind === 'service');
  const r = RPC.exec(stmt);
  if (!service || !r) return;
  outline.services.get(service.name)!.set(r[1]!, {
    input: r[3]!,
    output: r[5]!,
    clientStreaming: r[2] !== undefined,
    serverStreaming: r[4] !== undefined,
  });
}
