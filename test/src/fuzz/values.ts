import { createHash } from 'node:crypto';
import type { Prng } from './prng.js';

/** sha256 returns the OCI digest of some bytes. */
export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** StringKind is the meaning the generator gives a string field, which picks its pool. */
export type StringKind =
  | 'ident' | 'imageName' | 'transferRef' | 'digest' | 'filter' | 'fieldPath' | 'mediaType' | 'snapshotter'
  | 'path' | 'mountType' | 'mountOption' | 'resourceType' | 'topic' | 'typeUrl' | 'platform' | 'labelKey'
  | 'labelValue' | 'namespace' | 'runtime' | 'generic';

/** WRITE_DATA are the payloads content writes use; their digests are in the digest pool so commits can succeed. */
export const WRITE_DATA: readonly Buffer[] = [Buffer.from('hello'), Buffer.from('a'), Buffer.alloc(0), Buffer.from('fuzz '.repeat(300))];

const HEX64 = '0123456789abcdef'.repeat(4);
const invalidIdents = [
  '', ' ', '-lead', 'trail-', '.', '..', 'a..b', 'a/../b', '../../etc', '/abs', 'x'.repeat(77), 'x'.repeat(4096),
  'with space', 'tab\t', 'new\nline', 'nul\0byte', 'UPPER', 'émoji😀', 'a\\b', '%2e%2e', '\u202e', 'a:b', 'a@b',
];

const POOLS: Record<Exclude<StringKind, 'digest'>, readonly string[]> = {
  ident: ['a', 'b', 'c0', 'fuzz.x_y-z', 'k/1', 'a'.repeat(76), ...invalidIdents],
  imageName: [
    'docker.io/library/busybox:latest', 'fuzz/img:1', 'localhost/x', 'a', 'b:2', `x@sha256:${HEX64}`, `x:${'t'.repeat(200)}`,
    `docker.io/library/${'a'.repeat(300)}`, 'UPPER/case', 'with space', ':', '@', 'a//b', ...invalidIdents.slice(0, 6),
  ],
  // Port 1 on loopback refuses at once, so no fuzzed transfer waits on the network.
  transferRef: ['127.0.0.1:1/fuzz/x:latest', `127.0.0.1:1/a@sha256:${HEX64}`, '', 'not a ref', '::', 'UPPER/x', 'a'.repeat(300), 'localhost:1/x'],
  filter: [
    '', 'name==a', 'labels."k"==v', 'labels.k', 'name~=^a', 'name~="["', 'id!=b', 'labels."k"', '==', ',', 'a,b', '"unterminated',
    'labels.', 'name==a,labels.k==v', '!@#$%^&*()', 'x'.repeat(10_000), 'a==b==c', '~=', `target.digest==sha256:${HEX64}`,
    'labels."a b"=="c d"', 'name~=(a', 'labels.k~=.*', 'parent==a', 'kind==active', 'digest', '\\', '"', "labels.'k'==v",
  ],
  fieldPath: [
    'labels', 'labels.k', 'labels."k"', 'labels.', 'name', 'target', 'image', 'runtime', 'spec', 'snapshotter', 'snapshot_key',
    'extensions', 'extensions.x', 'annotations', 'bogus', '', 'a.b.c', `labels.${'k'.repeat(5000)}`, 'created_at', 'id', 'labels.containerd.io/gc.root',
  ],
  mediaType: [
    'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd',
    'application/vnd.docker.image.rootfs.diff.tar.gzip', '', 'garbage', 'x'.repeat(1000), 'application/vnd.oci.image.layer.v1.tar+bogus',
  ],
  snapshotter: ['overlayfs', 'native', 'btrfs', '', 'nope', '../x', 'OVERLAYFS', 'native/../overlayfs'],
  // Only paths that do not exist (or are harmless), so no fuzzed mount or copy touches the host.
  path: ['', '/nonexistent/fuzz', 'relative/path', '../../nonexistent', '/nonexistent/' + 'p'.repeat(4000), 'nul\0path', '/tmp/ctrd-fuzz-nonexistent/x'],
  mountType: ['bind', 'rbind', 'overlay', 'tmpfs', '', 'garbage', 'aufs', 'x'.repeat(300)],
  mountOption: ['ro', 'rbind', 'lowerdir=/nonexistent/l', 'upperdir=/nonexistent/u', 'workdir=/nonexistent/w', '', 'x'.repeat(5000), 'size=1m', 'remount'],
  resourceType: ['content', 'snapshots/overlayfs', 'snapshots/native', 'ingests', 'snapshots/', 'bogus', '', 'snapshots/nope', 'snapshots'],
  topic: ['/fuzz', '/fuzz/a', '', 'noslash', '/a//b', '/', `/${'x'.repeat(5000)}`, '/tasks/exit', '/containers/create', '/images/delete', '/snapshot/remove'],
  typeUrl: [
    'types.containerd.io/opencontainers/runtime-spec/1/Spec', 'containerd.events.TaskExit', 'containerd.events.ContainerCreate',
    'containerd.events.ImageDelete', 'type.googleapis.com/google.protobuf.Empty', '', 'bogus/x', 'containerd.runc.v1.Options',
    'io.containerd.runc.v1.Options', 'types.containerd.io/containerd.events.TaskExit', '/',
  ],
  platform: ['linux/amd64', 'linux/arm64/v8', '', 'bogus', 'linux', 'windows/amd64', '/', 'linux/amd64/v99/extra', 'LINUX/AMD64'],
  labelKey: [
    'k', 'k2', 'containerd.io/gc.ref.content', 'containerd.io/gc.ref.snapshot.overlayfs', 'containerd.io/gc.root', 'containerd.io/gc.expire',
    'containerd.io/uncompressed', 'containerd.io/distribution.source.docker.io', '', 'k'.repeat(4097), 'ÿ', 'a b', 'k'.repeat(200),
  ],
  labelValue: ['v', '', 'v'.repeat(4097), `sha256:${HEX64}`, '2000-01-01T00:00:00Z', '2999-01-01T00:00:00Z', 'not-a-time', 'a', 'b'],
  namespace: ['default', 'fuzz', 'fuzz-b', '', 'UPPER', '-bad', 'a/b', 'fuzz-fixture', 'n'.repeat(80)],
  runtime: ['io.containerd.runc.v2', 'io.containerd.runc.v1', '', 'bogus', 'io.containerd.runtime.v1.linux', '../runc'],
  generic: ['', 'a', 'x'.repeat(70_000), 'émoji😀', '\0', '{}', '%s%n', '../..', 'null'],
};

/** SANE are the well-formed values of each kind, for requests meant to get past validation. */
const SANE: Record<Exclude<StringKind, 'digest'>, readonly string[]> = {
  ident: ['a', 'b', 'c0', 'fuzz.x_y-z'],
  imageName: ['fuzz/img:1', 'localhost/x', 'docker.io/library/busybox:latest', 'b:2'],
  transferRef: ['127.0.0.1:1/fuzz/x:latest'],
  filter: ['', 'name==a', 'labels."k"==v', 'labels.k', 'name~=^a'],
  fieldPath: ['labels', 'labels.k', 'name', 'target', 'image', 'spec', 'runtime', 'snapshot_key'],
  mediaType: POOLS.mediaType.slice(0, 8),
  snapshotter: ['overlayfs', 'native'],
  path: [''],
  mountType: ['tmpfs'],
  mountOption: ['size=1m', 'ro'],
  resourceType: ['content', 'ingests', 'snapshots/overlayfs', 'snapshots/native'],
  topic: ['/fuzz', '/fuzz/a'],
  typeUrl: POOLS.typeUrl.slice(0, 4),
  platform: ['linux/amd64', 'linux/arm64/v8'],
  labelKey: ['k', 'k2', 'containerd.io/gc.expire'],
  labelValue: ['v', 'a', '', '2999-01-01T00:00:00Z'],
  namespace: ['default', 'fuzz'],
  runtime: ['io.containerd.runc.v2'],
  generic: ['a', ''],
};

/** digestPool returns the digests the fuzzer uses: the fixture's, those of {@link WRITE_DATA}, and broken ones. */
export function digestPool(fixture: readonly string[]): string[] {
  return [
    ...fixture,
    ...WRITE_DATA.map((d) => sha256(d)),
    `sha256:${HEX64}`, '', 'sha256:', 'sha256:xyz', `sha512:${HEX64}`, 'md5:abc', `sha256:${HEX64.toUpperCase()}`,
    `sha256:${HEX64}0`, `sha256:${HEX64.slice(1)}`, 'sha256:../../../etc/passwd', `sha256:${HEX64}/..`, 'garbage', `:${HEX64}`,
  ];
}

/** Pools are every string pool, with the run's digest pool filled in; `sane` holds only well-formed values. */
export interface Pools {
  all: Record<StringKind, readonly string[]>;
  sane: Record<StringKind, readonly string[]>;
}

/** makePools builds the pools of a run. */
export function makePools(fixtureDigests: readonly string[]): Pools {
  return {
    all: { ...POOLS, digest: digestPool(fixtureDigests) },
    sane: { ...SANE, digest: [...fixtureDigests, ...WRITE_DATA.map((d) => sha256(d))] },
  };
}

/** randomString returns a short string of random characters, sometimes outside ASCII or invalid UTF-16. */
export function randomString(rng: Prng): string {
  const n = rng.chance(0.9) ? rng.range(0, 16) : rng.range(100, 3000);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    s += String.fromCharCode(r < 7 ? rng.range(0x20, 0x7e) : r < 8 ? rng.range(0, 0x1f) : r < 9 ? rng.range(0x80, 0x7ff) : rng.range(0xd800, 0xdfff));
  }
  return s;
}

/** pickString returns a value for a string field of a given kind: mostly from its pool, sometimes random. */
export function pickString(kind: StringKind, pools: Pools, rng: Prng, sane: boolean): string | Buffer {
  if (sane) return rng.pick(pools.sane[kind]);
  const r = rng.int(100);
  if (r < 80) return rng.pick(pools.all[kind]);
  if (r < 92) return randomString(rng);
  if (r < 96) return rng.bytes(rng.range(1, 12)); // not UTF-8
  return rng.pick(pools.all.generic);
}

/** INT_BOUNDARIES are the integer values every numeric field is tried with. */
export const INT_BOUNDARIES: readonly bigint[] = [
  0n, 1n, -1n, 2n, 5n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn, 0x1_0000_0000n,
  (1n << 53n) - 1n, 1n << 53n, (1n << 63n) - 1n, -(1n << 63n), (1n << 64n) - 1n,
];

/** pickInt returns an integer for a numeric field: a boundary, a small value or a random 64-bit one. */
export function pickInt(rng: Prng, allowHuge: boolean): bigint {
  const r = rng.int(100);
  if (r < 45) return BigInt(rng.int(16));
  if (r < 90) {
    const v = rng.pick(INT_BOUNDARIES);
    return !allowHuge && (v > (1n << 53n) - 1n || v < -(1n << 53n)) ? BigInt(rng.int(1 << 20)) : v;
  }
  return allowHuge ? BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())) : BigInt(rng.u32());
}
