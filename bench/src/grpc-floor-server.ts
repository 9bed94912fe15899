#!/usr/bin/env node
// Floors of the daemon rows: the least a Node daemon built on @grpc/grpc-js does for the same
// calls. It loads grpc-js, binds a unix socket and answers the three calls `ctr version` makes
// (Namespaces.Get, Version.Version, Introspection.Server) with empty messages, which decode as
// defaults. With `--blob <file>` it also serves Content.Info and Content.Read of that file from
// memory, enough for `ctr content get`. No config, plugins, logging or storage.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';
import { decodeReadRequest, encodeInfoResponse, encodeReadResponse } from './floor-wire.js';

const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof GrpcJs;
const [socket, flag, blobPath] = process.argv.slice(2);
if (!socket || (flag !== undefined && (flag !== '--blob' || !blobPath))) {
  process.stderr.write('usage: grpc-floor-server <socket> [--blob <file>]\n');
  process.exit(2);
}

const same = (b: Buffer) => b;
const empty = Buffer.alloc(0);
const definition: Record<string, GrpcJs.MethodDefinition<Buffer, Buffer>> = {};
const implementation: GrpcJs.UntypedServiceImplementation = {};
const method = (path: string, responseStream: boolean, handler: GrpcJs.UntypedHandleCall) => {
  definition[path] = { path, requestStream: false, responseStream, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
  implementation[path] = handler;
};
const emptyUnary = (_call: unknown, done: GrpcJs.sendUnaryData<Buffer>) => done(null, empty);
method('/containerd.services.namespaces.v1.Namespaces/Get', false, emptyUnary);
method('/containerd.services.version.v1.Version/Version', false, emptyUnary);
method('/containerd.services.introspection.v1.Introspection/Server', false, emptyUnary);

if (blobPath) {
  const blob = readFileSync(blobPath);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const info = encodeInfoResponse(digest, blob.length);
  // As containerd's server does, a Read answers in chunks of at most 1 MiB.
  const CHUNK = 1 << 20;
  method('/containerd.services.content.v1.Content/Info', false, (_call: unknown, done: GrpcJs.sendUnaryData<Buffer>) => done(null, info));
  method('/containerd.services.content.v1.Content/Read', true, (call: GrpcJs.ServerWritableStream<Buffer, Buffer>) => {
    const req = decodeReadRequest(call.request);
    const end = req.size > 0 ? Math.min(blob.length, req.offset + req.size) : blob.length;
    for (let off = req.offset; off < end; off += CHUNK) call.write(encodeReadResponse(off, blob.subarray(off, Math.min(end, off + CHUNK))));
    call.end();
  });
}

const server = new grpc.Server();
server.addService(definition, implementation);
server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    process.stderr.write(`grpc-floor-server: ${err.message}\n`);
    process.exit(1);
  }
});
process.once('SIGTERM', () => process.exit(0));
