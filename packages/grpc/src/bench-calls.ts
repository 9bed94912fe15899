/**
 * A micro benchmark of the per-call cost of the binding layer (not a test, not exported): a
 * grpc-js server in this process with a unary and a server-streaming method, bound through
 * `bindService` (or registered directly on grpc-js, as the floor; or, with `--mode direct`, the
 * bound methods served by `serveDirect` from a bare `node:http2` server, as the daemon serves
 * them; or, with `--mode own`, by the daemon's own `GrpcServer`; or, with `--mode h2`, no grpc-js at all: a bare `node:http2` server that frames the same
 * answers and sends `grpc-status: 0` as trailers, the least any Node server pays), driven over a unix socket by a
 * grpc-js client in a child process that makes one call at a time. It prints the server's CPU time
 * (user + system, from `process.cpuUsage`) per call, which other load on the machine barely moves.
 *
 *   node packages/grpc/dist/bench-calls.js [--mode bound|raw|direct|own|h2] [--poll signal|cancelled] [--calls 5000] [--rounds 3] [--verbose] [--perf]
 *     [--server-options '{"grpc.enable_channelz":0}']
 *
 * With `--perf` it also counts the server's instructions per call (`perf stat`, run as root).
 */
import { fork, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer as createH2Server } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { bindService, type BoundService } from './bind.js';
import { directlyServable, serveDirect } from './node-call.js';
import { GrpcServer } from './server.js';

const PAYLOAD = Buffer.alloc(32 * 1024, 7);
const SMALL = Buffer.alloc(200, 1);
const identity = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const Def = {
  info: { path: '/bench.Svc/Info', requestStream: false, responseStream: false, ...identity },
  read: { path: '/bench.Svc/Read', requestStream: false, responseStream: true, ...identity },
} as const;

async function client(sock: string): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(Def as unknown as grpc.ServiceDefinition, 'Svc');
  const c = new Client(`unix://${sock}`, grpc.credentials.createInsecure()) as unknown as Record<string, Function>;
  const md = new grpc.Metadata();
  md.set('containerd-namespace', 'default');
  const unary = () => new Promise<void>((res, rej) => c.info!.call(c, SMALL, md, (e: unknown) => (e ? rej(e) : res())));
  const stream = () =>
    new Promise<void>((res, rej) => {
      const s = c.read!.call(c, SMALL, md) as grpc.ClientReadableStream<Buffer>;
      let n = 0;
      s.on('data', (b: Buffer) => (n += b.length));
      s.on('error', rej);
      s.on('end', () => (n === PAYLOAD.length ? res() : rej(new Error(`short read ${n}`))));
    });
  process.on('message', async (m: { kind: 'unary' | 'stream'; calls: number } | 'exit') => {
    if (m === 'exit') {
      (c as unknown as grpc.Client).close();
      process.disconnect();
      return;
    }
    const call = m.kind === 'unary' ? unary : stream;
    for (let i = 0; i < m.calls; i++) await call();
    process.send!('done');
  });
  process.send!('ready');
}

function implementation(mode: string, poll: string): grpc.UntypedServiceImplementation {
  return mode === 'raw' ? rawImplementation() : bound(poll).implementation;
}

function rawImplementation(): grpc.UntypedServiceImplementation {
  return {
    info: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, SMALL),
    read: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      call.write(PAYLOAD);
      call.end();
    },
  };
}

function bound(poll: string): BoundService {
  return bindService(Def, {
    info: async (_req: Buffer, ctx) => {
      if (ctx.namespace === '') throw new Error('unreachable');
      return SMALL;
    },
    // As the Content service's Read: checks for a cancellation between chunks.
    read: poll === 'signal'
      ? async function* (_req: Buffer, ctx) {
          if (ctx.namespace === '') throw new Error('unreachable');
          for (let i = 0; i < 1 && !ctx.signal.aborted; i++) yield PAYLOAD;
        }
      : async function* (_req: Buffer, ctx) {
          if (ctx.namespace === '') throw new Error('unreachable');
          for (let i = 0; i < 1 && !ctx.cancelled; i++) yield PAYLOAD;
        },
  });
}

/**
 * instructions starts counting this process's user-space instructions with `perf stat` (all its
 * threads, JIT and GC included) and returns a function that stops the count and yields it: a
 * figure the machine's other load moves far less than CPU time.
 */
async function instructions(): Promise<() => Promise<number>> {
  const p = spawn('perf', ['stat', '-x', ',', '-e', 'instructions:u', '-p', String(process.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (b: Buffer) => (err += b));
  await new Promise((r) => setTimeout(r, 300));
  return async () => {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGINT');
    await exited;
    const n = Number(err.split('\n').find((l) => l.includes('instructions'))?.split(',')[0]);
    if (!Number.isFinite(n)) throw new Error(`perf stat: ${err}`);
    return n;
  };
}

/** framed is a message with gRPC's 5-byte prefix (uncompressed, length). */
function framed(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 5);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** listenH2 serves both methods from a bare HTTP/2 server and returns its closer. */
async function listenH2(sock: string): Promise<() => void> {
  const answers: Record<string, Buffer> = { [Def.info.path]: framed(SMALL), [Def.read.path]: framed(PAYLOAD) };
  const srv = createH2Server();
  srv.on('stream', (stream, headers) => {
    const answer = answers[String(headers[':path'])];
    stream.resume();
    stream.on('end', () => {
      if (!answer) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(answer);
    });
  });
  await new Promise<void>((res) => srv.listen(sock, res));
  return () => srv.close();
}

/** listenDirect serves the bound methods with serveDirect from a bare HTTP/2 server and returns its closer. */
/** listenOwn serves the bound methods from the daemon's own HTTP/2 and gRPC server. */
async function listenOwn(sock: string, poll: string): Promise<() => void> {
  const srv = new GrpcServer({ maxReceiveMessageSize: 4 << 20, maxSendMessageSize: -1, streamWindow: 4 << 20, connectionWindow: 8 << 20 });
  srv.addService(bound(poll));
  await srv.listen(sock);
  return () => srv.forceShutdown();
}

async function listenDirect(sock: string, poll: string): Promise<() => void> {
  const methods = new Map((bound(poll).direct ?? []).map((m) => [m.path, m]));
  const srv = createH2Server();
  srv.on('stream', (stream, headers) => {
    const m = methods.get(String(headers[':path']));
    if (m === undefined || !directlyServable(headers)) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
      return;
    }
    serveDirect(m, stream, headers, { maxReceiveMessageSize: 4 << 20, maxSendMessageSize: -1 });
  });
  await new Promise<void>((res) => srv.listen(sock, res));
  return () => srv.close();
}

/** listenGrpc serves both methods from a grpc-js server and returns its closer. */
async function listenGrpc(sock: string, mode: string, poll: string, serverOptions: grpc.ServerOptions): Promise<() => void> {
  const srv = new grpc.Server(serverOptions);
  srv.addService(Def as unknown as grpc.ServiceDefinition, implementation(mode, poll));
  await new Promise<void>((res, rej) => srv.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  return () => srv.forceShutdown();
}

async function server(mode: string, poll: string, calls: number, rounds: number, verbose: boolean, perf: boolean, serverOptions: grpc.ServerOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-calls-'));
  const sock = join(dir, 's.sock');
  const close =
    mode === 'h2'
      ? await listenH2(sock)
      : mode === 'direct'
        ? await listenDirect(sock, poll)
        : mode === 'own'
          ? await listenOwn(sock, poll)
          : await listenGrpc(sock, mode, poll, serverOptions);
  const child = fork(process.argv[1]!, ['--client', sock], { execArgv: [] });
  const next = () => new Promise<unknown>((res) => child.once('message', res));
  await next();
  const run = async (kind: 'unary' | 'stream', n: number) => {
    const counter = perf ? await instructions() : undefined;
    const cpu = process.cpuUsage();
    const t = performance.now();
    child.send({ kind, calls: n });
    await next();
    const used = process.cpuUsage(cpu);
    const wall = ((performance.now() - t) * 1000) / n;
    const ins = counter ? (await counter()) / n : 0;
    return { us: (used.user + used.system) / n, sys: used.system / n, wall, ins };
  };
  await run('unary', 1000);
  await run('stream', 1000);
  const seen: Record<string, { us: number[]; ins: number[] }> = { unary: { us: [], ins: [] }, stream: { us: [], ins: [] } };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['unary', 'stream'] as const) {
      const { us, sys, wall, ins } = await run(kind, calls);
      seen[kind]!.us.push(us);
      seen[kind]!.ins.push(ins);
      if (verbose) console.log(`${mode} ${kind.padEnd(6)} round ${r + 1}: server CPU ${us.toFixed(1)} µs/call (system ${sys.toFixed(1)}), wall ${wall.toFixed(1)} µs/call`);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  for (const [kind, { us, ins }] of Object.entries(seen)) {
    const k = perf ? `, instructions/call median ${(median(ins) / 1000).toFixed(0)}k` : '';
    console.log(`${mode} ${kind.padEnd(6)} server CPU µs/call: min ${Math.min(...us).toFixed(1)} median ${median(us).toFixed(1)}${k} (${rounds} × ${calls} calls)`);
  }
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  close();
  await rm(dir, { recursive: true, force: true });
}

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'bound' },
    poll: { type: 'string', default: 'signal' },
    'server-options': { type: 'string', default: '{}' },
    calls: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    client: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    perf: { type: 'boolean', default: false },
  },
});
if (values.client) await client(values.client);
else await server(values.mode!, values.poll!, Number(values.calls), Number(values.rounds), values.verbose!, values.perf!, JSON.parse(values['server-options']!));
