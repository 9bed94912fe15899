#!/usr/bin/env node
// The floor of `daemon-start`: the least a Node daemon built on @grpc/grpc-js does before `ctr
// version` answers. It loads grpc-js, binds a unix socket and answers the three calls `ctr
// version` makes (Namespaces.Get, Version.Version, Introspection.Server) with empty messages,
// which decode as defaults. No config, plugins, logging or storage.
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';

const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof GrpcJs;
const socket = process.argv[2];
if (!socket) {
  process.stderr.write('usage: grpc-floor-server <socket>\n');
  process.exit(2);
}

const same = (b: Buffer) => b;
const empty = Buffer.alloc(0);
const paths = [
  '/containerd.services.namespaces.v1.Namespaces/Get',
  '/containerd.services.version.v1.Version/Version',
  '/containerd.services.introspection.v1.Introspection/Server',
];
const definition: Record<string, GrpcJs.MethodDefinition<Buffer, Buffer>> = {};
const implementation: GrpcJs.UntypedServiceImplementation = {};
for (const path of paths) {
  definition[path] = { path, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
  implementation[path] = (_call: unknown, done: GrpcJs.sendUnaryData<Buffer>) => done(null, empty);
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
