/**
 * Severity grades a finding: `error` breaks an invariant (exit status 1), `warning` is garbage
 * or a leftover that ctrd cleans up by itself (or `--repair` removes), `info` is expected state
 * worth knowing about (an ingest that can be resumed).
 */
export type Severity = 'error' | 'warning' | 'info';

/** Finding is one observation of {@link runFsck}. */
export interface Finding {
  severity: Severity;
  /** which check made it: `content`, `metadata`, `snapshots`, `mounts`. */
  check: string;
  /** a stable machine-readable kind, e.g. `blob-digest-mismatch`. */
  code: string;
  /** what it is about: a path, a digest, `<namespace>/<kind>/<name>`. */
  subject: string;
  message: string;
  /** set when `repair` fixed it. */
  repaired?: boolean;
}

/** FsckOptions name the root to check and what to do. */
export interface FsckOptions {
  /** ctrd's persistent root (`root` in the config). */
  root: string;
  /** ctrd's state directory (`state` in the config); mounts under it are checked too. */
  state?: string;
  /** the daemon's socket: fsck refuses to run while something answers on it. */
  address?: string;
  /**
   * snapshotter roots by name (a `root_path` from the config), over the default
   * `<root>/io.containerd.snapshotter.v1.<name>` of each such directory that exists.
   */
  snapshotters?: Record<string, string>;
  /** remove what is safe to remove (warnings: orphan directories, stale temporary files, leftover mounts). */
  repair?: boolean;
  /** skip hashing blob contents (only check that they exist). */
  skipDigests?: boolean;
  /** skip the mount check (when tasks still run, their root filesystems stay mounted). */
  skipMounts?: boolean;
}

/** FsckReport is the outcome of {@link runFsck}. */
export interface FsckReport {
  root: string;
  state?: string;
  findings: Finding[];
  /** counts of what was looked at, by kind. */
  checked: Record<string, number>;
  /** errors found (and not repaired). */
  errors: number;
  warnings: number;
  durationMs: number;
}

/** Findings collects findings for one check. */
export class Findings {
  readonly list: Finding[] = [];
  constructor(private readonly check: string) {}

  add(severity: Severity, code: string, subject: string, message: string, repaired?: boolean): void {
    const f: Finding = { severity, check: this.check, code, subject, message };
    if (repaired) f.repaired = true;
    this.list.push(f);
  }
}
