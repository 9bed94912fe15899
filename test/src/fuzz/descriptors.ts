import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** FieldDesc is one message field from the descriptor set. */
export interface FieldDesc {
  name: string;
  number: number;
  /** descriptor type without the prefix: `STRING`, `INT64`, `MESSAGE`, `ENUM`, … */
  type: string;
  repeated: boolean;
  /** full name without the leading dot, for messages and enums. */
  typeName?: string;
}

/** MessageDesc is one message: its fields and whether it is a synthesized map entry. */
export interface MessageDesc {
  fullName: string;
  fields: FieldDesc[];
  mapEntry: boolean;
}

/** MethodDesc is one rpc of a service. */
export interface MethodDesc {
  /** the gRPC path, `/pkg.Service/Method`. */
  path: string;
  service: string;
  name: string;
  input: string;
  output: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

/** Descriptors is the parsed descriptor set of packages/api/proto. */
export interface Descriptors {
  messages: Map<string, MessageDesc>;
  /** enum full name → its declared numbers. */
  enums: Map<string, number[]>;
  methods: MethodDesc[];
}

interface RawField { name: string; number: number; label?: string; type: string; typeName?: string }
interface RawMessage { name: string; field?: RawField[]; nestedType?: RawMessage[]; enumType?: RawEnum[]; options?: { mapEntry?: boolean } }
interface RawEnum { name: string; value?: { number?: number }[] }
interface RawFile {
  package?: string;
  messageType?: RawMessage[];
  enumType?: RawEnum[];
  service?: { name: string; method?: { name: string; inputType: string; outputType: string; clientStreaming?: boolean; serverStreaming?: boolean }[] }[];
}

function strip(name: string | undefined): string | undefined {
  return name?.replace(/^\./, '');
}

/** parseDescriptorSet reads a FileDescriptorSet in protobuf's JSON form. */
export function parseDescriptorSet(json: { file: RawFile[] }): Descriptors {
  const out: Descriptors = { messages: new Map(), enums: new Map(), methods: [] };
  const addEnum = (prefix: string, e: RawEnum) => out.enums.set(`${prefix}.${e.name}`, (e.value ?? []).map((v) => v.number ?? 0));
  const addMessage = (prefix: string, m: RawMessage): void => {
    const fullName = prefix ? `${prefix}.${m.name}` : m.name;
    out.messages.set(fullName, {
      fullName,
      mapEntry: m.options?.mapEntry === true,
      fields: (m.field ?? []).map((f) => ({
        name: f.name,
        number: f.number,
        type: f.type.replace(/^TYPE_/, ''),
        repeated: f.label === 'LABEL_REPEATED',
        ...(f.typeName ? { typeName: strip(f.typeName)! } : {}),
      })),
    });
    for (const n of m.nestedType ?? []) addMessage(fullName, n);
    for (const e of m.enumType ?? []) addEnum(fullName, e);
  };
  for (const file of json.file) {
    const pkg = file.package ?? '';
    for (const m of file.messageType ?? []) addMessage(pkg, m);
    for (const e of file.enumType ?? []) addEnum(pkg, e);
    for (const svc of file.service ?? []) {
      const service = pkg ? `${pkg}.${svc.name}` : svc.name;
      for (const m of svc.method ?? []) {
        out.methods.push({
          path: `/${service}/${m.name}`,
          service,
          name: m.name,
          input: strip(m.inputType)!,
          output: strip(m.outputType)!,
          clientStreaming: m.clientStreaming === true,
          serverStreaming: m.serverStreaming === true,
        });
      }
    }
  }
  return out;
}

/**
 * loadDescriptors builds the API's FileDescriptorSet with buf (the same tool that generates the
 * TypeScript) and parses it, so the fuzzed method list is exactly what the protos declare.
 */
export function loadDescriptors(top: string): Descriptors {
  const apiDir = join(top, 'packages', 'api');
  const buf = join(top, 'node_modules', '.bin', 'buf');
  if (!existsSync(buf)) throw new Error(`buf not found at ${buf}: run npm install`);
  const r = spawnSync(buf, ['build', '--exclude-source-info', '-o', '-#format=json'], { cwd: apiDir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`buf build failed (${r.status}): ${r.stderr || r.error}`);
  return parseDescriptorSet(JSON.parse(r.stdout) as { file: RawFile[] });
}
