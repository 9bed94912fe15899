#!/usr/bin/env node
// Floors of the daemon rows: the least a Node daemon built on @grpc/grpc-js does for the same
// calls. It loads grpc-js, binds a unix socket and answers the two calls `ctr version` makes
// (Version.Version, Introspection.Server), and Namespaces.Get, with empty messages, which decode
// as defaults, and Content.Write as `ctr content ingest` drives it: a running sha256 of the data,
// kept nowhere. With `--blob <file>` it also serves Content.Info and Content.Read of that file
// from memory, enough for `ctr content get`. No config, plugins, logging or storage. Like ctrd it
// widens its HTTP/2 receive windows and polls for 200 µs after each answer.
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';
import { decodeReadRequest, decodeWriteRequest, encodeInfoResponse, encodeReadResponse, encodeWriteResponse, WriteAction, type WriteResponse } from './floor-wire.js';

const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof GrpcJs;
const [socket, flag, blobPath] = process.argv.slice(2);
if (!socket || (flag !== undefined && (flag !== '--blob' || !blobPath))) {
  process.stderr.write('usage: grpc-floor-server <socket> [--blob <file>]\n');
  process.exit(2);
}

// The receive windows ctrd's daemon offers (packages/daemon's early server): grpc-js keeps
// Node's 64 KiB and has no option for them, and with that default every 1 MiB Write message
// waits for ~16 window updates. Any Node daemon can widen them, so the floor does too.
const STREAM_WINDOW = 4 << 20;
const SESSION_WINDOW = 8 << 20;

// After each answer the floor keeps its event loop turning for a while, as ctrd does
// (`[grpc] busy_poll_us`, @ctrd/grpc's busy-poll): a client's next call then does not wait for
// a sleeping CPU to wake. Any Node daemon can do so, so the floor does too, with ctrd's default
// window of 200 µs.
const pollMs = 0.2;
let pollUntil = 0;
let polling = false;
const turn = (): void => {
  if (performance.now() < pollUntil) setImmediate(turn);
  else polling = false;
};
const pollAfterAnswer = (): void => {
  pollUntil = performance.now() + pollMs;
  if (polling) return;
  polling = true;
  setImmediate(turn);
};

const same = (b: Buffer) => b;
const empty = Buffer.alloc(0);
const definition: Record<string, GrpcJs.MethodDefinition<Buffer, Buffer>> = {};
const implementation: GrpcJs.UntypedServiceImplementation = {};
const method = (path: string, requestStream: boolean, responseStream: boolean, handler: GrpcJs.UntypedHandleCall) => {
  definition[path] = { path, requestStream, responseStream, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
  implementation[path] = handler;
};
const emptyUnary = (_call: unknown, done: GrpcJs.sendUnaryData<Buffer>) => {
  done(null, empty);
  pollAfterAnswer();
};
method('/containerd.services.namespaces.v1.Namespaces/Get', false, false, emptyUnary);
method('/containerd.services.version.v1.Version/Version', false, false, emptyUnary);
method('/containerd.services.introspection.v1.Introspection/Server', false, false, emptyUnary);

// Content.Write as containerd's content server answers it: the first message names the ref;
// every message gets the action, the offset and total so far and the digest of the data so far;
// STAT and COMMIT also carry the start and last-write times. Data is hashed and dropped.
method('/containerd.services.content.v1.Content/Write', true, true, (call: GrpcJs.ServerDuplexStream<Buffer, Buffer>) => {
  let hash: Hash | undefined;
  let offset = 0;
  let total = 0;
  let expected = '';
  const startedAt = Date.now();
  let updatedAt = startedAt;
  let finished = false;
  const fail = (code: GrpcJs.status, details: string) => {
    finished = true;
    call.emit('error', { code, details });
  };
  call.on('data', (msg: Buffer) => {
    if (finished) return;
    const req = decodeWriteRequest(msg);
    if (!hash) {
      if (req.ref === '') return fail(grpc.status.INVALID_ARGUMENT, 'first message must have a reference');
      hash = createHash('sha256');
    }
    if (req.expected !== '') expected = req.expected;
    if (req.total > 0) total = req.total;
    const res: WriteResponse = { action: req.action, offset, total, digest: '' };
    if (req.action === WriteAction.WRITE || req.action === WriteAction.COMMIT) {
      if (req.offset > 0 && req.offset !== offset) return fail(grpc.status.OUT_OF_RANGE, `write @${req.offset} must occur at current offset ${offset}`);
      if (req.offset === 0 && offset > 0) {
        hash = createHash('sha256');
        offset = 0;
      }
      if (req.data.length > 0) {
        hash.update(req.data);
        offset += req.data.length;
        updatedAt = Date.now();
      }
      res.offset = offset;
    }
    if (req.action === WriteAction.COMMIT) {
      if (total > 0 && total !== offset) return fail(grpc.status.FAILED_PRECONDITION, `unexpected commit size ${offset}, expected ${total}: failed precondition`);
      res.digest = `sha256:${hash.digest('hex')}`;
      if (expected !== '' && expected !== res.digest) return fail(grpc.status.FAILED_PRECONDITION, `unexpected commit digest ${res.digest}, expected ${expected}: failed precondition`);
    } else res.digest = `sha256:${hash.copy().digest('hex')}`;
    if (req.action !== WriteAction.WRITE) {
      res.startedAt = startedAt;
      res.updatedAt = updatedAt;
    }
    call.write(encodeWriteResponse(res));
    if (req.action === WriteAction.COMMIT) {
      finished = true;
      call.end();
      pollAfterAnswer();
    }
  });
  // A client that closes its side without committing leaves the write as it is, with status OK.
  call.on('end', () => {
    if (!finished) {
      finished = true;
      call.end();
    }
  });
});

if (blobPath) {
  const blob = readFileSync(blobPath);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const info = encodeInfoResponse(digest, blob.length);
  // As containerd's server does, a Read answers in chunks of at most 1 MiB.
  const CHUNK = 1 << 20;
  method('/containerd.services.content.v1.Content/Info', false, false, (_call: unknown, done: GrpcJs.sendUnaryData<Buffer>) => {
    done(null, info);
    pollAfterAnswer();
  });
  method('/containerd.services.content.v1.Content/Read', false, true, (call: GrpcJs.ServerWritableStream<Buffer, Buffer>) => {
    const req = decodeReadRequest(call.request);
    const end = req.size > 0 ? Math.min(blob.length, req.offset + req.size) : blob.length;
    for (let off = req.offset; off < end; off += CHUNK) call.write(encodeReadResponse(off, blob.subarray(off, Math.min(end, off + CHUNK))));
    call.end();
    pollAfterAnswer();
  });
}

const server = new grpc.Server();
server.addService(definition, implementation);
server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    process.stderr.write(`grpc-floor-server: ${err.message}\n`);
    process.exit(1);
  }
  const servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  for (const h2server of servers instanceof Map ? servers.keys() : []) {
    h2server.updateSettings({ initialWindowSize: STREAM_WINDOW });
    h2server.on('session', (session: ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(SESSION_WINDOW);
      } catch {
        // a session that closed at once
      }
    });
  }
});
process.once('SIGTERM', () => process.exit(0));
