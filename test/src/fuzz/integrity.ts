import { spawnSync } from 'node:child_process';
import { Metadata, status } from '@grpc/grpc-js';
import { WriteAction, WriteContentRequest } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { CreateImageRequest } from '@ctrd/api/gen/containerd/services/images/v1/images.js';
import { CommitSnapshotRequest, PrepareSnapshotRequest } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import type { TestDaemon } from '../harness.js';
import { RawClient } from './client.js';
import { sha256 } from './values.js';
import { WireWriter } from './wire.js';

/** FIXTURE_NAMESPACE holds the data the fuzzer must never damage; no fuzzed call sends it as its header. */
export const FIXTURE_NAMESPACE = 'fuzz-fixture';

/** Fixture is what {@link createFixture} put in the store. */
export interface Fixture {
  blobs: Map<string, Buffer>;
  image: string;
  committed: string;
  active: string;
}

function must(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function unaryOk(client: RawClient, method: string, req: Uint8Array): Promise<void> {
  const r = await client.unary(`/containerd.services.snapshots.v1.${method}`, Buffer.from(req), md(FIXTURE_NAMESPACE), { deadlineMs: 10_000 });
  if (r.code !== status.OK) throw new Error(`${method}: ${r.code} ${r.details}`);
}

/** writeBlob commits one blob into the fixture namespace with a single Content.Write call. */
async function writeBlob(client: RawClient, ref: string, data: Buffer, labels: Record<string, string>): Promise<void> {
  const msg = Buffer.from(WriteContentRequest.encode({ action: WriteAction.COMMIT, ref, total: data.length, expected: sha256(data), offset: 0, data, labels }).finish());
  const r = await client.stream('/containerd.services.content.v1.Content/Write', true, [msg], md(FIXTURE_NAMESPACE), { deadlineMs: 10_000, finish: 'end' });
  if (r.code !== status.OK) throw new Error(`write fixture blob ${ref}: ${r.code} ${r.details}`);
}

function md(ns?: string): Metadata {
  const m = new Metadata();
  if (ns) m.set('containerd-namespace', ns);
  return m;
}

/**
 * createFixture stores a small image (config, layer, manifest blobs and an image record)
 * and a committed snapshot with an active child, all in {@link FIXTURE_NAMESPACE}.
 */
export async function createFixture(d: TestDaemon): Promise<Fixture> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from('fixture layer bytes, not a tar\n'.repeat(50));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  }));
  const blobs = new Map([config, layer, manifest].map((b) => [sha256(b), b] as const));
  const image = 'fuzz.local/fixture:1';
  const client = new RawClient(d.address);
  try {
    // Written top-down, each blob referenced the moment it commits, so a garbage collection
    // between two steps (fuzzed deletes trigger them) cannot take any of them.
    const refs = { 'containerd.io/gc.ref.content.config': sha256(config), 'containerd.io/gc.ref.content.l.0': sha256(layer) };
    await writeBlob(client, 'fixture-manifest', manifest, { 'containerd.io/gc.root': 'fixture', ...refs });
    const req = Buffer.from(CreateImageRequest.encode({
      image: { name: image, labels: {}, target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length, annotations: {} } },
    }).finish());
    const r = await client.unary('/containerd.services.images.v1.Images/Create', req, md(FIXTURE_NAMESPACE), { deadlineMs: 10_000 });
    if (r.code !== status.OK) throw new Error(`create fixture image: ${r.code} ${r.details}`);
    await writeBlob(client, 'fixture-config', config, {});
    await writeBlob(client, 'fixture-layer', layer, {});
    const root = { 'containerd.io/gc.root': 'fixture' };
    const snapshotter = 'overlayfs';
    await unaryOk(client, 'Snapshots/Prepare', PrepareSnapshotRequest.encode({ snapshotter, key: 'fixture-tmp', parent: '', labels: root }).finish());
    await unaryOk(client, 'Snapshots/Commit', CommitSnapshotRequest.encode({ snapshotter, name: 'fixture-committed', key: 'fixture-tmp', labels: root }).finish());
    await unaryOk(client, 'Snapshots/Prepare', PrepareSnapshotRequest.encode({ snapshotter, key: 'fixture-active', parent: 'fixture-committed', labels: root }).finish());
  } finally {
    client.close();
  }
  return { blobs, image, committed: 'fixture-committed', active: 'fixture-active' };
}

/**
 * checkIntegrity returns every problem found: the daemon must answer Version and Health,
 * ctr must list each store in each namespace, the fixture must be whole (every blob still
 * reads back to its digest), and no content-write ref may stay locked.
 */
export async function checkIntegrity(d: TestDaemon, fixture: Fixture, namespaces: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const check = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message.slice(0, 400)}`);
    }
  };
  if (d.proc?.exitCode !== null || d.proc?.signalCode) return [`daemon exited (${d.proc?.exitCode ?? d.proc?.signalCode})`];
  check('ctr version', () => must(d.ctr(['version']), 'ctr version'));
  const client = new RawClient(d.address);
  try {
    const health = await client.unary('/grpc.health.v1.Health/Check', Buffer.alloc(0), md(), { deadlineMs: 5000 });
    // HealthCheckResponse { status = SERVING (1) } is the bytes 08 01.
    if (health.code !== status.OK || !health.response?.equals(Buffer.from([8, 1]))) problems.push(`health: ${health.code} ${health.details} ${health.response?.toString('hex')}`);
    for (const ref of ['w0', 'w1', 'w2']) {
      const abort = new WireWriter().bytes(1, Buffer.from(ref)).finish();
      const r = await client.unary('/containerd.services.content.v1.Content/Abort', abort, md('fuzz'), { deadlineMs: 5000 });
      if (r.code !== status.OK && r.code !== status.NOT_FOUND) problems.push(`abort ${ref}: ${r.code} ${r.details}`);
    }
  } finally {
    client.close();
  }
  check('ingest after fuzz', () => {
    const data = Buffer.from(`after fuzz ${Date.now()}`);
    must(d.ctr(['content', 'ingest', '--expected-size', String(data.length), '--expected-digest', sha256(data), 'w0'], { namespace: 'fuzz', input: data }), 'ingest w0');
  });
  check('namespaces ls', () => must(d.ctr(['namespaces', 'ls']), 'namespaces ls'));
  for (const ns of [...namespaces, FIXTURE_NAMESPACE]) {
    for (const args of [['content', 'ls'], ['images', 'ls'], ['snapshots', 'ls'], ['containers', 'ls'], ['leases', 'ls'], ['content', 'active']]) {
      check(`${ns}: ctr ${args.join(' ')}`, () => must(d.ctr(args, { namespace: ns }), args.join(' ')));
    }
  }
  const ns = { namespace: FIXTURE_NAMESPACE };
  check('fixture content', () => {
    const ls = must(d.ctr(['content', 'ls', '-q'], ns), 'content ls');
    for (const [digest, data] of fixture.blobs) {
      if (!ls.includes(digest)) throw new Error(`${digest} missing from content ls: ${ls}`);
      const got = d.ctr(['content', 'get', digest], ns);
      if (got.code !== 0) throw new Error(`content get ${digest}: ${got.stderr}`);
      if (sha256(got.stdout) !== digest || got.stdout.length !== data.length) throw new Error(`${digest} reads back different bytes`);
    }
  });
  for (const ns of namespaces) {
    check(`${ns}: every blob reads back to its digest`, () => {
      const ls = must(d.ctr(['content', 'ls', '-q'], { namespace: ns }), 'content ls').split('\n').filter(Boolean);
      for (const digest of ls) {
        const got = spawnSync('ctr', ['--address', d.address, '--namespace', ns, 'content', 'get', digest], { maxBuffer: 256 << 20, timeout: 60_000 });
        if (got.status !== 0) throw new Error(`content get ${digest}: ${got.stderr}`);
        if (sha256(got.stdout) !== digest) throw new Error(`${digest} reads back as ${sha256(got.stdout)}`);
      }
    });
  }
  check('fixture image', () => {
    const ls = must(d.ctr(['images', 'ls', '-q'], ns), 'images ls');
    if (!ls.split('\n').includes(fixture.image)) throw new Error(`${fixture.image} missing: ${ls}`);
  });
  check('fixture snapshots', () => {
    const ls = must(d.ctr(['snapshots', 'ls'], ns), 'snapshots ls');
    const row = (key: string) => ls.split('\n').find((l) => l.trim().split(/\s+/)[0] === key) ?? '';
    if (!/Committed/.test(row(fixture.committed))) throw new Error(`${fixture.committed} not committed: ${ls}`);
    if (!/Active/.test(row(fixture.active)) || !row(fixture.active).includes(fixture.committed)) throw new Error(`${fixture.active} not active on ${fixture.committed}: ${ls}`);
  });
  return problems;
}
