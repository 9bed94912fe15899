import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Descriptor, Platform } from './oci-types.js';

/**
 * PlatformMatcher decides whether a platform is acceptable and, of two acceptable ones, which is
 * preferred (`less(a, b)` is true when `a` should be picked before `b`).
 */
export interface PlatformMatcher {
  match(p: Platform): boolean;
  less(a: Platform, b: Platform): boolean;
}

function normalizeOS(os: string): string {
  const s = os.toLowerCase();
  return s === 'macos' ? 'darwin' : s;
}

/** normalizeArch maps an architecture and variant to their OCI spellings (`x86_64` → `amd64`, …). */
export function normalizeArch(arch: string, variant = ''): { architecture: string; variant: string } {
  let a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      a = '386';
      v = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      a = 'amd64';
      if (v === 'v1') v = '';
      break;
    case 'aarch64':
    case 'arm64':
      a = 'arm64';
      if (v === '8' || v === 'v8') v = '';
      break;
    case 'armhf':
      a = 'arm';
      v = 'v7';
      break;
    case 'armel':
      a = 'arm';
      v = 'v6';
      break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      break;
  }
  return { architecture: a, variant: v };
}

/** normalizePlatform returns `p` with its OS and architecture in canonical form; variant omitted when empty. */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { os: normalizeOS(p.os), architecture };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']?.length) out['os.features'] = [...p['os.features']];
  return out;
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64le',
};

/** hostPlatform returns the normalised platform of the running process. */
export function hostPlatform(): Platform {
  const arch = NODE_ARCH[process.arch] ?? process.arch;
  let variant = '';
  if (arch === 'arm') {
    const v = (process.config.variables as Record<string, unknown>)['arm_version'];
    variant = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  }
  return normalizePlatform({ os: process.platform, architecture: arch, variant });
}

/** formatPlatform gives the `os/arch[/variant]` form. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/');
}

/**
 * parsePlatform parses `os[/arch[/variant]]`, or a lone architecture, filling the missing parts from
 * the host, and normalises the result.
 *
 * @throws InvalidArgumentError for an empty or over-long specifier.
 */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (s === '' || parts.length > 3 || parts.some((x) => x === '')) {
    throw new InvalidArgumentError(`invalid platform specifier ${JSON.stringify(s)}`);
  }
  const host = hostPlatform();
  if (parts.length === 1) {
    const word = parts[0]!.toLowerCase();
    if (KNOWN_OS.has(normalizeOS(word))) return normalizePlatform({ ...host, os: word, architecture: host.architecture, variant: host.variant });
    return normalizePlatform({ os: host.os, architecture: word });
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'illumos', 'ios', 'js', 'linux', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows']);

function exact(want: Platform): (p: Platform) => boolean {
  const w = normalizePlatform(want);
  return (p) => {
    const n = normalizePlatform(p);
    return n.os === w.os && n.architecture === w.architecture && (n.variant ?? '') === (w.variant ?? '');
  };
}

/** orderedMatcher accepts any of `platforms`, preferring earlier ones. */
export function orderedMatcher(...platforms: Platform[]): PlatformMatcher {
  const ms = platforms.map(exact);
  const rank = (p: Platform): number => {
    const i = ms.findIndex((m) => m(p));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return { match: (p) => rank(p) < Number.MAX_SAFE_INTEGER, less: (a, b) => rank(a) < rank(b) };
}

/**
 * platformVector lists the platforms a machine of platform `p` can run, best first: lower amd64
 * levels and `386` for amd64, lower arm variants down to v5 for arm, and arm variants for arm64.
 */
export function platformVector(p: Platform): Platform[] {
  const n = normalizePlatform(p);
  const out: Platform[] = [n];
  const base = { os: n.os, ...(n['os.version'] ? { 'os.version': n['os.version'] } : {}) };
  const level = (v: string | undefined): number => Number.parseInt((v ?? '').replace(/^v/, ''), 10);
  if (n.architecture === 'amd64') {
    const l = level(n.variant);
    for (let i = l - 1; i >= 1 && Number.isFinite(l); i--) out.push({ ...base, architecture: 'amd64', ...(i > 1 ? { variant: `v${i}` } : {}) });
    out.push({ ...base, architecture: '386' });
  } else if (n.architecture === 'arm') {
    const l = level(n.variant);
    for (let i = l - 1; i >= 5 && Number.isFinite(l); i--) out.push({ ...base, architecture: 'arm', variant: `v${i}` });
  } else if (n.architecture === 'arm64') {
    out.push(...platformVector({ ...base, architecture: 'arm', variant: n.variant || 'v8' }));
  }
  return out;
}

/** onlyMatcher accepts `p` and what it can also run (see {@link platformVector}), preferring `p`. */
export function onlyMatcher(p: Platform): PlatformMatcher {
  return orderedMatcher(...platformVector(p));
}

/** strictMatcher accepts exactly `p` after normalisation. */
export function strictMatcher(p: Platform): PlatformMatcher {
  return orderedMatcher(p);
}

/** allPlatforms accepts every platform and prefers none. */
export const allPlatforms: PlatformMatcher = { match: () => true, less: () => false };

/** defaultMatcher is {@link onlyMatcher} of the {@link hostPlatform}. */
export function defaultMatcher(): PlatformMatcher {
  return onlyMatcher(hostPlatform());
}

/** matchesPlatform reports whether `candidate` normalises to exactly `want`. */
export function matchesPlatform(candidate: Platform, want: Platform): boolean {
  return exact(want)(candidate);
}

/**
 * selectManifests returns the index entries whose platform `matcher` accepts, best first (a stable
 * sort, so the index order breaks ties). Entries without a platform are kept last only when
 * `matcher` is {@link allPlatforms}.
 */
export function selectManifests(manifests: readonly Descriptor[], matcher: PlatformMatcher): Descriptor[] {
  const keep = manifests.filter((d) => (d.platform ? matcher.match(d.platform) : matcher === allPlatforms));
  return keep
    .map((d, i) => ({ d, i }))
    .sort((x, y) => {
      if (!x.d.platform || !y.d.platform) return x.i - y.i;
      if (matcher.less(x.d.platform, y.d.platform)) return -1;
      if (matcher.less(y.d.platform, x.d.platform)) return 1;
      return x.i - y.i;
    })
    .map((x) => x.d);
}
