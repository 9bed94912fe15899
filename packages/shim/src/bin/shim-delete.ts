#!/usr/bin/env node
/**
 * The `delete` subcommand: containerd runs it for the bundle of a task whose shim is gone.
 * Force-deletes the runc container, unmounts the rootfs and prints a marshalled
 * `containerd.task.v2.DeleteResponse` (exit status 137, exited now) on stdout.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteResponse } from '../gen/containerd/runtime/v2/task/shim.js';
import { parseShimArgs } from '../args.js';
import { Reaper } from '../reaper.js';
import { unmountAll } from '../rootfs.js';
import { RuncCommands } from '../runc.js';
import { BUNDLE_STATE_FILE, DEFAULT_RUNC_ROOT } from '../task-service.js';
import { toTimestamp } from '../wire.js';

// No top-level await: the command is bundled as CommonJS (see scripts/bundle.mjs).
async function main(): Promise<void> {
  const args = parseShimArgs(process.argv.slice(2));
  const bundle = args.bundle || process.cwd();
  // Missing, or empty when a kill hit Create while it wrote the file (before runc created
  // anything): either way the defaults apply.
  const state = (await readFile(join(bundle, BUNDLE_STATE_FILE), 'utf8').then((text) => JSON.parse(text) as object).catch(() => ({}))) as {
    binary?: string;
    root?: string;
  };
  const binary = state.binary ?? process.env.CTRD_SHIM_RUNC ?? 'runc';
  const root = state.root ?? join(DEFAULT_RUNC_ROOT, args.namespace);
  const pid = Number((await readFile(join(bundle, 'init.pid'), 'utf8').catch(() => '0')).trim()) || 0;
  const cmds = new RuncCommands({ binary, root, log: join(bundle, 'log.json') });
  const r = await new Reaper().run(binary, cmds.delete(args.id, true));
  if (r.code !== 0 && !/does not exist|not found/.test(r.stderr)) process.stderr.write(r.stderr);
  unmountAll(join(bundle, 'rootfs'));
  process.stdout.write(DeleteResponse.encode({ pid, exitStatus: 137, exitedAt: toTimestamp(Date.now()) }).finish());
}

main().catch((err: Error) => {
  process.stderr.write(`shim delete: ${err.message}\n`);
  process.exit(1);
});
