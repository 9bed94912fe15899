#!/usr/bin/env node
/**
 * The shim server: one per containerd address and namespace, started by the
 * `containerd-shim-ctrd-v1` launcher, serving `containerd.task.v2.Task` for all of that
 * namespace's tasks on the socket the launcher named.
 */
import { closeSync, writeSync } from 'node:fs';
import { TaskDefinition } from '../gen/containerd/runtime/v2/task/shim.js';
import { registerService, TtrpcServer } from '@ctrd/ttrpc';
import { parseShimArgs } from '../args.js';
import { shimServerPaths } from '../address.js';
import { Publisher } from '../publisher.js';
import { requireSameUser } from '../peer-check.js';
import { Reaper } from '../reaper.js';
import { ShimLifecycle } from '../lifecycle.js';
import { TaskService } from '../task-service.js';

const log = (msg: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
};

// No top-level await: the server is bundled as CommonJS (see scripts/bundle.mjs).
async function main(): Promise<void> {
  const args = parseShimArgs(process.argv.slice(2));
  const paths = shimServerPaths(args.address, args.namespace);
  const socket = args.socket || paths.socket;
  process.chdir('/');
  const reaper = new Reaper();
  const publisher = new Publisher(process.env.TTRPC_ADDRESS ?? '', args.namespace, (err) => log(`publish: ${err.message}`));
  const server = new TtrpcServer({
    onError: (err) => log(`ttrpc: ${err.message}`),
    onConnection: requireSameUser((peer) => log(`refused a connection from ${peer ? `pid ${peer.pid} uid ${peer.uid} gid ${peer.gid}` : 'an unknown peer'}`)),
  });
  // A server with no task left lingers for a while before exiting, so a `run --rm` right after
  // another finds it still running instead of booting Node again: CTRD_SHIM_IDLE_EXIT_MS, which the
  // daemon sets from the runtime's `shim_idle_exit` (0 = at once).
  const lingerEnv = Number(process.env.CTRD_SHIM_IDLE_EXIT_MS ?? 30_000);
  const lingerMs = Number.isFinite(lingerEnv) && lingerEnv >= 0 ? lingerEnv : 30_000;
  const lifecycle = new ShimLifecycle({ paths, socket, server, publisher, log, lingerMs });
  const service = new TaskService({
    namespace: args.namespace,
    reaper,
    events: publisher,
    runcBinary: process.env.CTRD_SHIM_RUNC || undefined,
    onIdle: () => lifecycle.idle(),
    onCreate: (id) => lifecycle.claimed(id),
    accepting: () => lifecycle.accepting,
  });
  lifecycle.taskCount = () => service.taskCount;
  registerService(server, TaskDefinition, service);
  process.on('SIGTERM', () => void lifecycle.exitIfIdle({ force: true }));
  process.on('SIGPIPE', () => {});
  await lifecycle.serve();
  if (args.readyFd !== undefined) {
    // The launcher waits for this line (or for the pipe to close) before it hands out the address.
    writeSync(args.readyFd, 'ready\n');
    closeSync(args.readyFd);
  }
  // The subreaper flag loads koffi (~10 ms), so it is set only once the launcher has been told:
  // the load overlaps the hand-off to the daemon. The daemon learns the socket from the launcher,
  // after the line above, and this runs in the same turn as the line: the flag is in place before
  // any Create can be read, so before the first container's runc spawn.
  reaper.start();
  log(`serving namespace ${args.namespace} on ${socket} (pid ${process.pid})`);
}

main().catch((err: Error) => {
  log(`shim server: ${err.message}`);
  process.exit(1);
});
