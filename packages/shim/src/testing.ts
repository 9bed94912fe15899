/**
 * Helpers for this package's tests: a busybox rootfs, OCI bundles, fifos and a recording
 * events server. Not part of the public API.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackAny } from '@ctrd/api';
import { EventsDefinition } from '@ctrd/api/gen/containerd/services/ttrpc/events/v1/events.js';
import { TtrpcServer, registerService } from '@ctrd/ttrpc';

/** BUSYBOX is Debian busybox-static's binary. */
export const BUSYBOX = '/bin/busybox';

/** integrationSkipReason says why the runc tests cannot run here, or undefined when they can. */
export function integrationSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'runc not found';
  }
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} missing (apt install busybox-static)`;
  return undefined;
}

/** makeRootfs builds a busybox rootfs in `dir`. */
export function makeRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  execFileSync('chmod', ['755', join(dir, 'bin/busybox')]);
  for (const applet of ['sh', 'echo', 'sleep', 'cat', 'true', 'ls', 'head', 'dd']) symlinkSync('busybox', join(dir, 'bin', applet));
}

/** makeBundle writes an OCI bundle in `dir` (from `runc spec`) running `args`, with an empty `rootfs` mount point. */
export function makeBundle(dir: string, args: string[], terminal = false): void {
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  execFileSync('runc', ['spec'], { cwd: dir });
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    process: { args: string[]; terminal: boolean };
    root: { path: string; readonly: boolean };
  };
  spec.process.args = args;
  spec.process.terminal = terminal;
  spec.root = { path: 'rootfs', readonly: false };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
}

/** mkfifo creates a fifo. */
export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** RecordedEvent is one forwarded event. */
export interface RecordedEvent {
  namespace: string;
  topic: string;
  event: Record<string, unknown>;
}

/** startEventsServer serves Events/Forward on `path`, recording each envelope. */
export async function startEventsServer(path: string): Promise<{ events: RecordedEvent[]; server: TtrpcServer }> {
  const events: RecordedEvent[] = [];
  const server = new TtrpcServer();
  registerService(server, EventsDefinition, {
    forward: (req) => {
      const env = req.envelope;
      if (env?.event !== undefined) {
        events.push({ namespace: env.namespace, topic: env.topic, event: unpackAny(env.event) as Record<string, unknown> });
      }
      return {};
    },
  });
  await server.listen(path);
  return { events, server };
}

/**
 * eventsUntil waits until `done(events)` holds (or `timeoutMs` passes) and returns the events:
 * a shim's reply may reach its caller before the events it published reach containerd.
 */
export async function eventsUntil(events: RecordedEvent[], done: (events: RecordedEvent[]) => boolean, timeoutMs = 5000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  while (!done(events) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return events;
}

/** serverPids lists the shim server processes whose socket lives under `runDir`. */
export function serverPids(runDir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const argv = cmd.split('\0');
    if (argv.some((a) => a.endsWith('shim-server.cjs')) && argv.some((a) => a.startsWith(runDir))) out.push(Number(name));
  }
  return out;
}

/** alive reports whether `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
