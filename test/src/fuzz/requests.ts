import { Metadata } from '@grpc/grpc-js';
import type { Descriptors, MethodDesc } from './descriptors.js';
import { fieldNumber, genMessage, type GenContext } from './generate.js';
import type { MethodSpec } from './methods.js';
import { Prng } from './prng.js';
import { WRITE_DATA, sha256, type Pools } from './values.js';
import { mutate, WireWriter, type Mutation } from './wire.js';

/** FuzzRequest is one generated call: headers, request bytes and how to finish the stream. */
export interface FuzzRequest {
  method: MethodDesc;
  spec: MethodSpec;
  /** the namespace header sent, or undefined when absent. */
  namespace: string | undefined;
  lease: string | undefined;
  /** a second `containerd-namespace` value sent after the first. */
  extraNamespace?: string;
  messages: Buffer[];
  mutation: Mutation | 'none' | 'sane' | 'write-scenario' | 'oversized';
  finish: 'end' | 'cancel';
}

const FUZZ_NAMESPACES = ['default', 'fuzz', 'fuzz-b'];
const EMPTY_NAMESPACES = ['fuzz-no-containers'];
// Header values a client could send; grpc-js only carries printable ASCII in text headers.
const BAD_NAMESPACES = ['', 'UPPER', '-bad', 'a/b', 'n'.repeat(80), '..', 'with space', 'a..b', '0'];

const WRITE_REFS = ['w0', 'w1', 'w2', '', 'x'.repeat(300), '../w', 'w/0'];

/**
 * writeScenario builds a Content.Write stream that looks like a real upload (stat, write
 * chunks, commit) with one thing wrong now and then: a wrong offset, total or digest, a
 * missing commit, a second commit, labels that are too big.
 */
function writeScenario(d: Descriptors, rng: Prng): Buffer[] {
  const T = 'containerd.services.content.v1.WriteContentRequest';
  const n = (f: string) => fieldNumber(d, T, f);
  const ref = rng.pick(WRITE_REFS);
  const data = rng.pick(WRITE_DATA);
  const total = rng.chance(0.8) ? data.length : rng.pick([0, -1, data.length + 1, 2 ** 40]);
  const expected = rng.chance(0.8) ? sha256(data) : rng.pick(['', 'sha256:bad', sha256('other')]);
  const msg = (action: number, fields: { offset?: number; data?: Buffer; total?: number; expected?: string; labels?: boolean }) => {
    const w = new WireWriter().tag(n('action'), 0).varint(action).bytes(n('ref'), Buffer.from(ref));
    if (fields.total !== undefined) w.tag(n('total'), 0).varint(fields.total);
    if (fields.expected !== undefined) w.bytes(n('expected'), Buffer.from(fields.expected));
    if (fields.offset !== undefined) w.tag(n('offset'), 0).varint(fields.offset);
    if (fields.data) w.bytes(n('data'), fields.data);
    if (fields.labels) w.bytes(n('labels'), new WireWriter().bytes(1, Buffer.from('k')).bytes(2, Buffer.alloc(rng.pick([1, 5000]), 'v')).finish());
    return w.finish();
  };
  const out: Buffer[] = [];
  if (rng.chance(0.5)) out.push(msg(0, { total, expected }));
  const cut = rng.int(data.length + 1);
  const wrong = () => rng.pick([-1, 1, 3, 2 ** 40, data.length + 7]);
  out.push(msg(1, { offset: rng.chance(0.85) ? 0 : wrong(), data: data.subarray(0, cut), total }));
  if (cut < data.length) out.push(msg(1, { offset: rng.chance(0.85) ? cut : wrong(), data: data.subarray(cut) }));
  if (rng.chance(0.85)) out.push(msg(2, { offset: rng.chance(0.9) ? data.length : wrong(), total, expected, labels: rng.chance(0.2) }));
  if (rng.chance(0.1)) out.push(msg(2, { total, expected }));
  return out;
}

function pickNamespace(spec: MethodSpec, rng: Prng, sane: boolean): string | undefined {
  const r = sane ? 100 : rng.int(100);
  if (r < 8) return undefined;
  if (r < 20) return rng.pick(BAD_NAMESPACES);
  return rng.pick(spec.namespaces === 'no-containers' ? EMPTY_NAMESPACES : FUZZ_NAMESPACES);
}

/** buildRequest derives request `index` of a run from the run's seed alone, so it can be replayed. */
export function buildRequest(d: Descriptors, pools: Pools, method: MethodDesc, spec: MethodSpec, seed: number): FuzzRequest {
  const rng = new Prng(seed);
  const sane = rng.chance(0.3);
  const ctx: GenContext = { d, pools, rng, kinds: spec.kinds ?? {}, hugeInts: !sane && rng.chance(0.1), sane };
  const namespace = pickNamespace(spec, rng, sane);
  const lease = rng.chance(0.05) ? rng.pick(['l0', 'l1', '', 'missing-lease', '-bad']) : undefined;
  const fields = d.messages.get(method.input)?.fields.map((f) => f.number) ?? [];
  const one = (): { bytes: Buffer; mutation: FuzzRequest['mutation'] } => {
    const msg = genMessage(ctx, method.input);
    return !sane && rng.chance(0.3) ? mutate(msg, fields, rng) : { bytes: msg, mutation: sane ? 'sane' : 'none' };
  };
  let messages: Buffer[];
  let mutation: FuzzRequest['mutation'] = 'none';
  if (method.clientStreaming && method.path === '/containerd.services.content.v1.Content/Write' && rng.chance(0.6)) {
    messages = writeScenario(d, rng);
    mutation = 'write-scenario';
  } else if (method.clientStreaming) {
    messages = [];
    for (let i = rng.range(0, 5); i > 0; i--) {
      const m = one();
      messages.push(m.bytes);
      if (m.mutation !== 'none') mutation = m.mutation;
    }
  } else {
    const m = one();
    messages = [m.bytes];
    mutation = m.mutation;
  }
  if (!sane && messages.length > 0 && rng.chance(1 / 3000)) {
    // Past the daemon's 16 MiB receive limit: grpc must refuse it before any handler runs.
    messages[0] = Buffer.concat([messages[0]!, new WireWriter().bytes(4000, Buffer.alloc(17 << 20)).finish()]);
    mutation = 'oversized';
  }
  const finish = method.clientStreaming && rng.chance(0.15) ? 'cancel' : 'end';
  const extra = !sane && rng.chance(0.03) ? { extraNamespace: rng.pick([...BAD_NAMESPACES, 'fuzz-fixture']) } : {};
  return { method, spec, namespace, lease, messages, mutation, finish, ...extra };
}

/** metadataOf builds the call headers of a request. */
export function metadataOf(req: FuzzRequest): Metadata {
  const md = new Metadata();
  if (req.namespace !== undefined) md.set('containerd-namespace', req.namespace);
  // A second value: the daemon must read the first, as containerd does.
  if (req.namespace !== undefined && req.extraNamespace !== undefined) md.add('containerd-namespace', req.extraNamespace);
  if (req.lease !== undefined) md.set('containerd-lease', req.lease);
  return md;
}
