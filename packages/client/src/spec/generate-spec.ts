import { hostname as hostHostname } from 'node:os';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { defaultSeccompProfile, type SeccompProfile } from './seccomp.js';

/** DEFAULT_PATH is the PATH a process gets when its image sets none. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** DEFAULT_CAPABILITIES is the capability set of an unprivileged container, as containerd's. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** ALL_CAPABILITIES is every capability a privileged container gets. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** MASKED_PATHS are hidden from unprivileged containers. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];

/** READONLY_PATHS are read-only in unprivileged containers. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** SpecMount is one entry of an OCI spec's `mounts`. */
export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** ImageRuntimeConfig is the part of an OCI image config's `config` a spec is built from. */
export interface ImageRuntimeConfig {
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

/** SpecOptions describe the container generateSpec builds a runtime spec for. */
export interface SpecOptions {
  /** id is the container ID (hostname and cgroup leaf). */
  id: string;
  /** namespace is the containerd namespace (the cgroup parent); `default` when absent. */
  namespace?: string;
  /** image is the image config's `config` object, if the container comes from an image. */
  image?: ImageRuntimeConfig;
  /** args replace the image's entrypoint and cmd when non-empty (as `ctr run IMAGE ID cmd…`). */
  args?: readonly string[];
  /** env entries `K=V` added after the image's (a later key replaces an earlier one). */
  env?: readonly string[];
  cwd?: string;
  /** user is `uid[:gid]` (numeric, or `root`); overrides the image's. */
  user?: string;
  mounts?: readonly SpecMount[];
  netHost?: boolean;
  privileged?: boolean;
  /** capAdd names capabilities (`CAP_` optional) added to the default set. */
  capAdd?: readonly string[];
  /** memoryLimit in bytes. */
  memoryLimit?: number;
  /** cpus is a CPU count (fractions allowed), turned into a CFS quota over a 100ms period. */
  cpus?: number;
  tty?: boolean;
  readonlyRootfs?: boolean;
  /** seccomp applies the default profile unless false (privileged containers never get it). */
  seccomp?: boolean;
  /** hostname; the container ID unless netHost (then the host's). */
  hostname?: string;
}

/** RuntimeSpec is an OCI runtime spec as generateSpec produces it (JSON-serialisable). */
export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: SpecMount[];
  linux: {
    resources: {
      devices: { allow: boolean; access: string; type?: string }[];
      memory?: { limit: number };
      cpu?: { quota: number; period: number };
    };
    cgroupsPath: string;
    namespaces: { type: string; path?: string }[];
    maskedPaths?: string[];
    readonlyPaths?: string[];
    seccomp?: SeccompProfile;
  };
}

function defaultMounts(): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ];
}

/** mergeEnv appends `extra` to `base`, a later `KEY=` replacing an earlier one in place. */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base];
  for (const kv of extra) {
    const key = kv.split('=')[0];
    const i = out.findIndex((e) => e.split('=')[0] === key);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

/** parseUser turns `uid[:gid]` (numeric, or `root`) into ids; names need the rootfs's passwd and are refused. */
export function parseUser(user: string): { uid: number; gid: number } {
  const [u = '', g] = user.split(':');
  const num = (s: string, what: string): number => {
    if (s === 'root') return 0;
    if (!/^\d+$/.test(s)) throw new InvalidArgumentError(`${what} "${s}" must be numeric (user names are not resolved)`);
    return Number(s);
  };
  const uid = u === '' ? 0 : num(u, 'user');
  return { uid, gid: g === undefined || g === '' ? (u === 'root' ? 0 : uid) : num(g, 'group') };
}

/** normaliseCapability returns `CAP_X` for `x`, `X` or `CAP_X`. */
export function normaliseCapability(cap: string): string {
  const up = cap.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/**
 * generateSpec builds the OCI runtime spec of a Linux container with containerd's defaults
 * (mounts, namespaces, capabilities, masked and read-only paths, NOFILE 1024, device cgroup
 * deny-all, cgroup `/<namespace>/<id>`) plus ctrd's default seccomp profile, then applies the
 * image config and the options.
 */
export function generateSpec(opts: SpecOptions): RuntimeSpec {
  const namespace = opts.namespace ?? 'default';
  const img = opts.image ?? {};
  const args = opts.args?.length ? [...opts.args] : [...(img.Entrypoint ?? []), ...(img.Cmd ?? [])];
  if (args.length === 0) throw new InvalidArgumentError('no command specified');
  let env = img.Env?.length ? [...img.Env] : [DEFAULT_PATH];
  if (opts.tty) env = mergeEnv(env, ['TERM=xterm']);
  env = mergeEnv(env, opts.env ?? []);
  const user = parseUser(opts.user ?? img.User ?? '');
  let caps = opts.privileged ? [...ALL_CAPABILITIES] : [...DEFAULT_CAPABILITIES];
  for (const c of opts.capAdd ?? []) {
    const name = normaliseCapability(c);
    if (name === 'CAP_ALL') caps = [...ALL_CAPABILITIES];
    else if (!caps.includes(name)) caps.push(name);
  }
  const mounts = defaultMounts();
  if (opts.privileged) for (const m of mounts) if (m.destination === '/sys') m.options = m.options?.filter((o) => o !== 'ro');
  if (opts.netHost) {
    mounts.push({ destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro'] });
    mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro'] });
  }
  for (const m of opts.mounts ?? []) {
    const i = mounts.findIndex((d) => d.destination === m.destination);
    if (i >= 0) mounts.splice(i, 1);
    mounts.push({ ...m, options: [...(m.options ?? [])] });
  }
  const namespaces = ['pid', 'ipc', 'uts', 'mount', ...(opts.netHost ? [] : ['network'])].map((type) => ({ type }));
  const spec: RuntimeSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: !!opts.tty,
      user,
      args,
      env,
      cwd: opts.cwd || img.WorkingDir || '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', ...(opts.readonlyRootfs ? { readonly: true } : {}) },
    hostname: opts.hostname ?? (opts.netHost ? hostHostname() : opts.id),
    mounts,
    linux: {
      resources: { devices: [{ allow: !!opts.privileged, access: 'rwm' }] },
      cgroupsPath: `/${namespace}/${opts.id}`,
      namespaces,
    },
  };
  if (!opts.privileged) {
    spec.linux.maskedPaths = [...MASKED_PATHS];
    spec.linux.readonlyPaths = [...READONLY_PATHS];
    if (opts.seccomp !== false) spec.linux.seccomp = defaultSeccompProfile(caps);
  }
  if (opts.memoryLimit !== undefined) {
    if (!(opts.memoryLimit > 0)) throw new InvalidArgumentError(`invalid memory limit ${opts.memoryLimit}`);
    spec.linux.resources.memory = { limit: Math.floor(opts.memoryLimit) };
  }
  if (opts.cpus !== undefined) {
    if (!(opts.cpus > 0)) throw new InvalidArgumentError(`invalid cpus ${opts.cpus}`);
    spec.linux.resources.cpu = { quota: Math.round(opts.cpus * 100_000), period: 100_000 };
  }
  return spec;
}

/** SPEC_TYPE_URL is the Any type URL containerd stores a container's runtime spec under. */
export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';

/** specAny wraps a runtime spec as the Any a container record carries. */
export function specAny(spec: unknown): { typeUrl: string; value: Uint8Array } {
  return { typeUrl: SPEC_TYPE_URL, value: new TextEncoder().encode(JSON.stringify(spec)) };
}
