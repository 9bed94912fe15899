import type { Descriptors, FieldDesc, MessageDesc } from './descriptors.js';
import type { Prng } from './prng.js';
import { WRITE_DATA, pickInt, pickString, type Pools, type StringKind } from './values.js';
import { WireWriter } from './wire.js';

/**
 * KindOverrides give fields a string kind for one method: keys are `field` or
 * `Message.field` (the message's short name), e.g. `{ 'PullRequest.ref': 'transferRef' }`.
 */
export type KindOverrides = Readonly<Record<string, StringKind>>;

/** GenContext is what {@link genMessage} draws on for one request. */
export interface GenContext {
  d: Descriptors;
  pools: Pools;
  rng: Prng;
  kinds: KindOverrides;
  /** allow int64 values past 2^53, which ts-proto refuses to decode. */
  hugeInts: boolean;
  /** draw only well-formed values, so the request gets past validation into the stores. */
  sane: boolean;
}

const eventTypes = new WeakMap<Descriptors, string[]>();

const MAX_DEPTH = 4;

const BY_NAME: Readonly<Record<string, StringKind>> = {
  id: 'ident', key: 'ident', parent: 'ident', container_id: 'ident', exec_id: 'ident', snapshot_key: 'ident', ref: 'ident',
  name: 'ident', image: 'imageName', digest: 'digest', expected: 'digest', chain_id: 'digest', parent_checkpoint: 'digest',
  filter: 'filter', filters: 'filter', paths: 'fieldPath', media_type: 'mediaType', snapshotter: 'snapshotter',
  bundle: 'path', checkpoint: 'path', stdin: 'path', stdout: 'path', stderr: 'path', path: 'path', runtime_path: 'path',
  hosts_dir: 'path', root: 'path', work_path: 'path', image_path: 'path', criu_path: 'path', criu_image_path: 'path',
  criu_work_path: 'path', source: 'path', target: 'path', options: 'mountOption', topic: 'topic', type_url: 'typeUrl',
  platforms: 'platform', namespace: 'namespace',
};

function shortName(full: string): string {
  return full.slice(full.lastIndexOf('.') + 1);
}

/** kindOf decides which pool a string field draws from. */
export function kindOf(msg: MessageDesc, field: FieldDesc, overrides: KindOverrides): StringKind {
  const short = shortName(msg.fullName);
  const o = overrides[`${short}.${field.name}`] ?? overrides[field.name];
  if (o) return o;
  if (msg.mapEntry) {
    if (short === 'ExtensionsEntry') return 'ident';
    return field.name === 'key' ? 'labelKey' : 'labelValue';
  }
  if (field.name === 'type') return short === 'Mount' ? 'mountType' : short === 'Resource' ? 'resourceType' : 'generic';
  if (field.name === 'name' && /Image/.test(short)) return 'imageName';
  if (field.name === 'name' && short === 'Runtime') return 'runtime';
  return BY_NAME[field.name] ?? 'generic';
}

function utf8(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function anyValue(ctx: GenContext): Buffer {
  const { rng } = ctx;
  switch (rng.int(5)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return Buffer.from(rng.pick(['{}', '{"ociVersion":"1.0.2"}', '{"process":{"args":["sh"]}}', 'null', '[', '{"root":{"path":"/nonexistent"}}']));
    case 2: {
      // A real message of some type, so a matching type URL decodes to something plausible.
      let types = eventTypes.get(ctx.d);
      if (!types) {
        types = [...ctx.d.messages.keys()].filter((n) => n.startsWith('containerd.events.') || n.startsWith('containerd.runc.'));
        eventTypes.set(ctx.d, types);
      }
      return genMessage(ctx, rng.pick(types), MAX_DEPTH - 1);
    }
    default:
      return rng.bytes(rng.range(0, 64));
  }
}

function scalar(ctx: GenContext, w: WireWriter, msg: MessageDesc, f: FieldDesc, depth: number): void {
  const { rng } = ctx;
  switch (f.type) {
    case 'STRING':
      w.bytes(f.number, utf8(pickString(kindOf(msg, f, ctx.kinds), ctx.pools, rng, ctx.sane)));
      return;
    case 'BYTES':
      if (f.name === 'value' && msg.fullName === 'google.protobuf.Any') w.bytes(f.number, anyValue(ctx));
      else if (f.name === 'data') w.bytes(f.number, rng.chance(0.7) ? rng.pick(WRITE_DATA) : rng.bytes(rng.range(0, 4096)));
      else w.bytes(f.number, rng.bytes(rng.range(0, 64)));
      return;
    case 'BOOL':
      w.tag(f.number, 0).varint(ctx.sane || rng.chance(0.95) ? rng.int(2) : pickInt(rng, true));
      return;
    case 'ENUM': {
      const values = ctx.d.enums.get(f.typeName ?? '') ?? [0];
      w.tag(f.number, 0).varint(ctx.sane || rng.chance(0.85) ? BigInt(rng.pick(values)) : pickInt(rng, false));
      return;
    }
    case 'INT32': case 'UINT32':
      w.tag(f.number, 0).varint(BigInt.asIntN(32, pickInt(rng, false)));
      return;
    case 'INT64': case 'UINT64':
      w.tag(f.number, 0).varint(pickInt(rng, ctx.hugeInts));
      return;
    case 'SINT32': case 'SINT64': {
      const v = BigInt.asIntN(64, pickInt(rng, ctx.hugeInts));
      w.tag(f.number, 0).varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
      return;
    }
    case 'FIXED32': case 'SFIXED32': case 'FLOAT':
      w.fixed32(f.number, Number(BigInt.asUintN(32, pickInt(rng, true))));
      return;
    case 'FIXED64': case 'SFIXED64': case 'DOUBLE':
      w.fixed64(f.number, pickInt(rng, true));
      return;
    case 'MESSAGE':
      w.bytes(f.number, genMessage(ctx, f.typeName ?? '', depth + 1));
      return;
    default:
      w.bytes(f.number, rng.bytes(4));
  }
}

function repeatCount(ctx: GenContext, f: FieldDesc): number {
  const { rng } = ctx;
  const r = rng.int(100);
  if (ctx.sane || r < 70) return rng.range(1, 3);
  if (r < 97) return rng.range(4, 12);
  // Oversized: many labels or filters in one request.
  return ctx.d.messages.get(f.typeName ?? '')?.mapEntry || f.type === 'STRING' ? rng.range(200, 1500) : rng.range(13, 40);
}

function timestamp(ctx: GenContext): Buffer {
  const { rng } = ctx;
  const w = new WireWriter();
  const secs = rng.pick([0n, 1n, 1_700_000_000n, -62_135_596_800n, 253_402_300_800n, -1n, ...(ctx.hugeInts ? [(1n << 63n) - 1n, 1n << 53n] : [])]);
  w.tag(1, 0).varint(secs);
  if (rng.chance(0.7)) w.tag(2, 0).varint(rng.pick([0n, 1n, 999_999_999n, 1_000_000_000n, -1n, 0x7fffffffn]));
  return w.finish();
}

/**
 * genMessage encodes a random instance of a message type: each field present or not, values
 * drawn from the pool its name suggests or from numeric boundaries, nested messages down to a
 * fixed depth, repeated and map fields sometimes oversized.
 */
export function genMessage(ctx: GenContext, typeName: string, depth = 0): Buffer {
  if (typeName === 'google.protobuf.Timestamp') return timestamp(ctx);
  const msg = ctx.d.messages.get(typeName);
  if (!msg || depth > MAX_DEPTH) return Buffer.alloc(0);
  const { rng } = ctx;
  const w = new WireWriter();
  const presence = ctx.sane ? 0.9 : depth === 0 ? 0.8 : 0.6;
  for (const f of msg.fields) {
    if (!rng.chance(presence)) continue;
    if (!f.repeated) {
      scalar(ctx, w, msg, f, depth);
      continue;
    }
    const n = repeatCount(ctx, f);
    const packable = !['STRING', 'BYTES', 'MESSAGE'].includes(f.type);
    if (packable && rng.chance(0.5)) {
      // The packed form: one length-delimited run of varints.
      const inner = new WireWriter();
      for (let i = 0; i < n; i++) inner.varint(f.type === 'ENUM' ? BigInt(rng.int(4)) : pickInt(rng, ctx.hugeInts));
      w.bytes(f.number, inner.finish());
      continue;
    }
    // Long lists of nested messages stay shallow (map entries are pairs, so they stay as they are).
    const isMap = ctx.d.messages.get(f.typeName ?? '')?.mapEntry === true;
    for (let i = 0; i < n; i++) scalar(ctx, w, msg, f, depth + (n > 12 && !isMap ? MAX_DEPTH : 0));
  }
  if (!ctx.sane && rng.chance(0.05)) w.bytes(rng.range(100, 2000), rng.bytes(rng.range(0, 8))); // an unknown field, which decoders skip
  return w.finish();
}

/** fieldNumber looks up a field's number by name, failing loudly if the proto changed. */
export function fieldNumber(d: Descriptors, typeName: string, field: string): number {
  const f = d.messages.get(typeName)?.fields.find((x) => x.name === field);
  if (!f) throw new Error(`descriptor has no field ${typeName}.${field}`);
  return f.number;
}
