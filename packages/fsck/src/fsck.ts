import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FailedPreconditionError } from '@ctrd/errdefs';
import { checkContent } from './content-check.js';
import { checkMetadata } from './metadata-check.js';
import { checkMounts } from './mount-check.js';
import { checkSnapshotter, type BackendSnapshot } from './snapshot-check.js';
import type { Finding, FsckOptions, FsckReport } from './types.js';

const CONTENT = 'io.containerd.content.v1.content';
const METADATA = join('io.containerd.metadata.v1.level', 'meta.db');
const SNAPSHOTTER_PREFIX = 'io.containerd.snapshotter.v1.';

function answers(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(address);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function snapshotterRoots(root: string, given?: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(root)) {
    if (name.startsWith(SNAPSHOTTER_PREFIX)) out[name.slice(SNAPSHOTTER_PREFIX.length)] = join(root, name);
  }
  return { ...out, ...given };
}

/**
 * runFsck checks a stopped ctrd's root (and state) offline: the content store's blobs against
 * their digests, each snapshotter's records against its directories, every metadata reference
 * against the stores, and leftover mounts. It refuses (FailedPrecondition) while the daemon's
 * socket answers, and (Unavailable) while the metadata database is locked by a running ctrd.
 * With `repair` it removes leftovers that are safe to remove. It never changes metadata records.
 */
export async function runFsck(opts: FsckOptions): Promise<FsckReport> {
  const t0 = performance.now();
  if (opts.address && (await answers(opts.address))) {
    throw new FailedPreconditionError(`ctrd is running (${opts.address} answers): stop it before fsck`);
  }
  if (!existsSync(opts.root)) throw new FailedPreconditionError(`root ${opts.root} does not exist`);
  const checked: Record<string, number> = {};
  const findings: Finding[] = [];
  const content = await checkContent(join(opts.root, CONTENT), opts, checked);
  findings.push(...content.findings.list);
  const backends = new Map<string, Map<string, BackendSnapshot>>();
  for (const [name, dir] of Object.entries(await snapshotterRoots(opts.root, opts.snapshotters))) {
    const s = await checkSnapshotter(name, dir, opts, checked);
    findings.push(...s.findings.list);
    backends.set(name, s.snapshots);
  }
  const taskRoot = opts.state ? join(opts.state, 'io.containerd.runtime.v2.task') : undefined;
  const meta = await checkMetadata(join(opts.root, METADATA), content.state, backends, checked, taskRoot);
  findings.push(...meta.findings.list);
  if (meta.named) {
    // Only collection removes backend snapshots, and only those no record names: one without its
    // tree that nothing names is a removal the next collection finishes, not damage.
    for (const f of findings) {
      if (f.code !== 'snapshot-dir-missing') continue;
      const i = f.subject.indexOf('/');
      if (meta.named.get(f.subject.slice(0, i))?.has(f.subject.slice(i + 1))) continue;
      f.severity = 'warning';
      f.code = 'snapshot-remove-pending';
      f.message += '; no record names it, so the next collection finishes removing it';
    }
  }
  if (!opts.skipMounts) findings.push(...(await checkMounts(opts.root, opts.state, opts, checked)).list);
  const open = findings.filter((f) => !f.repaired);
  const report: FsckReport = {
    root: opts.root,
    findings,
    checked,
    errors: open.filter((f) => f.severity === 'error').length,
    warnings: open.filter((f) => f.severity === 'warning').length,
    durationMs: Math.round(performance.now() - t0),
  };
  if (opts.state) report.state = opts.state;
  return report;
}
