import { status } from '@grpc/grpc-js';
import { generatedCodecs } from '@ctrd/api/gen/registry.js';
import { RawClient, type CallOutcome } from './client.js';
import type { Descriptors, MethodDesc } from './descriptors.js';
import type { MethodSpec } from './methods.js';
import { seedFor } from './prng.js';
import { buildRequest, metadataOf, type FuzzRequest } from './requests.js';
import type { Pools } from './values.js';

/** FuzzOptions configure {@link runFuzz}. */
export interface FuzzOptions {
  address: string;
  descriptors: Descriptors;
  specs: Readonly<Record<string, MethodSpec>>;
  pools: Pools;
  seed: number;
  requests: number;
  concurrency: number;
  /** per-call deadline; a call that runs into it counts as a hang. */
  deadlineMs: number;
  /** only methods whose path matches (default: all). */
  only?: RegExp;
  /** called after every 10 000 requests, e.g. to print progress in long runs. */
  progress?: (sent: number, elapsedMs: number) => void;
  /** polled every few hundred requests; returning a reason stops the run (e.g. the daemon died). */
  healthy?: () => string | undefined;
}

/** FuzzFailure is one call whose outcome was not allowed, with what it takes to replay it. */
export interface FuzzFailure {
  index: number;
  requestSeed: number;
  method: string;
  code: string;
  details: string;
  namespace: string | undefined;
  mutation: string;
  /** the request messages, base64, each cut to 512 bytes. */
  payload: string[];
}

/** FuzzStats is the result of a run. */
export interface FuzzStats {
  seed: number;
  sent: number;
  elapsedMs: number;
  /** method path → status label → count. */
  outcomes: Map<string, Map<string, number>>;
  /** method path → summed call time in ms. */
  timeMs: Map<string, number>;
  failures: FuzzFailure[];
  stoppedBecause?: string;
}

const CODE_NAMES = new Map<number, string>(Object.entries(status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));

/** codeName names a status code, e.g. `NOT_FOUND`. */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `CODE_${code}`;
}

/**
 * judge returns why an outcome is not allowed, or undefined when it is, and the label it is
 * counted under. Beyond a method's own list: INTERNAL only for bytes grpc-js could not decode
 * (gRPC's own answer to an unparsable request, containerd's too), RESOURCE_EXHAUSTED only for
 * grpc's message size limit, CANCELLED only for calls the fuzzer cancelled itself.
 */
export function judge(req: FuzzRequest, out: CallOutcome, cancelledByUs: boolean): { label: string; failure?: string } {
  const name = codeName(out.code);
  if (req.spec.notServed) {
    return out.code === status.UNIMPLEMENTED ? { label: name } : { label: name, failure: `expected UNIMPLEMENTED (${req.spec.notServed})` };
  }
  if (out.code === status.OK) {
    const bad = undecodable(req.method.output, [...(out.response ? [out.response] : []), ...(out.responses ?? [])]);
    return bad ? { label: 'OK(bad response)', failure: bad } : { label: name };
  }
  if (out.code === status.INTERNAL && out.details.startsWith('Error deserializing request')) return { label: 'INTERNAL(undecodable)' };
  if (out.code === status.RESOURCE_EXHAUSTED && /larger than max/i.test(out.details)) return { label: 'RESOURCE_EXHAUSTED(size)' };
  if (out.code === status.CANCELLED && cancelledByUs) return { label: 'CANCELLED(by fuzzer)' };
  if (req.spec.allow.includes(out.code)) return { label: name };
  if (req.spec.allowDetails?.some((a) => a.code === out.code && a.details.test(out.details))) return { label: `${name}(allowed)` };
  return { label: name, failure: `${name} is not an allowed answer` };
}

/** undecodable returns why a response does not decode as the method's output type, if it does not. */
function undecodable(type: string, responses: readonly Buffer[]): string | undefined {
  const codec = (generatedCodecs as Record<string, { decode(b: Uint8Array): unknown }>)[type];
  if (!codec) return undefined;
  for (const r of responses) {
    try {
      codec.decode(r);
    } catch (err) {
      return `response does not decode as ${type}: ${(err as Error).message}`;
    }
  }
  return undefined;
}

async function send(client: RawClient, req: FuzzRequest, deadlineMs: number): Promise<{ out: CallOutcome; cancelledByUs: boolean }> {
  const md = metadataOf(req);
  const m = req.method;
  if (!m.clientStreaming && !m.serverStreaming) return { out: await client.unary(m.path, req.messages[0]!, md, { deadlineMs }), cancelledByUs: false };
  if (!m.clientStreaming) {
    const cancelAfterMs = req.spec.endless ? 30 : undefined;
    const out = await client.serverStream(m.path, req.messages[0]!, md, { deadlineMs, ...(cancelAfterMs !== undefined ? { cancelAfterMs } : {}) });
    return { out, cancelledByUs: cancelAfterMs !== undefined };
  }
  const out = await client.stream(m.path, m.serverStreaming, req.messages, md, { deadlineMs, finish: req.finish });
  return { out, cancelledByUs: req.finish === 'cancel' };
}

/** methodOf picks request `index`'s method: round-robin, so every method is hit evenly. */
export function methodOf(methods: readonly MethodDesc[], index: number): MethodDesc {
  return methods[index % methods.length]!;
}

/** runFuzz sends `requests` generated calls with `concurrency` in flight and tallies the outcomes. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzStats> {
  const methods = opts.descriptors.methods.filter((m) => opts.specs[m.path] && (!opts.only || opts.only.test(m.path)));
  const stats: FuzzStats = { seed: opts.seed, sent: 0, elapsedMs: 0, outcomes: new Map(), timeMs: new Map(), failures: [] };
  const client = new RawClient(opts.address);
  const started = performance.now();
  let next = 0;
  // A frozen daemon (a blocked event loop) shows as calls running into their deadline one after another.
  let timeoutsInARow = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.requests && !stats.stoppedBecause) {
      const index = next++;
      if (index % 250 === 0) {
        const why = opts.healthy?.();
        if (why) {
          stats.stoppedBecause = why;
          return;
        }
      }
      const method = methodOf(methods, index);
      const requestSeed = seedFor(opts.seed, index);
      const req = buildRequest(opts.descriptors, opts.pools, method, opts.specs[method.path]!, requestSeed);
      const t0 = performance.now();
      const { out, cancelledByUs } = await send(client, req, opts.deadlineMs);
      timeoutsInARow = out.code === status.DEADLINE_EXCEEDED ? timeoutsInARow + 1 : 0;
      if (timeoutsInARow >= 2 * opts.concurrency) {
        stats.stoppedBecause = `the daemon stopped answering: ${timeoutsInARow} calls in a row ran into their deadline (last: request ${index}, ${method.path}, seed ${requestSeed})`;
      }
      stats.timeMs.set(method.path, (stats.timeMs.get(method.path) ?? 0) + performance.now() - t0);
      stats.sent++;
      if (stats.sent % 10_000 === 0) opts.progress?.(stats.sent, performance.now() - started);
      const { label, failure } = judge(req, out, cancelledByUs);
      const perMethod = stats.outcomes.get(method.path) ?? new Map<string, number>();
      perMethod.set(label, (perMethod.get(label) ?? 0) + 1);
      stats.outcomes.set(method.path, perMethod);
      if (failure) {
        stats.failures.push({
          index, requestSeed, method: method.path, code: label, details: `${failure}: ${out.details}`.slice(0, 500),
          namespace: req.namespace, mutation: req.mutation, payload: req.messages.map((b) => b.subarray(0, 512).toString('base64')),
        });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    client.close();
  }
  stats.elapsedMs = performance.now() - started;
  return stats;
}

/** formatStats renders the per-method outcome table, the seed and the request rate. */
export function formatStats(s: FuzzStats): string {
  const lines = [`fuzz: seed=${s.seed} requests=${s.sent} in ${(s.elapsedMs / 1000).toFixed(1)} s (${Math.round(s.sent / (s.elapsedMs / 1000))} req/s), failures=${s.failures.length}`];
  for (const [method, codes] of [...s.outcomes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const total = [...codes.values()].reduce((a, b) => a + b, 0);
    const avg = (s.timeMs.get(method) ?? 0) / total;
    lines.push(`  ${method} ${total} (${avg.toFixed(1)} ms avg): ${[...codes].sort(([, a], [, b]) => b - a).map(([c, n]) => `${c}=${n}`).join(' ')}`);
  }
  return lines.join('\n');
}
