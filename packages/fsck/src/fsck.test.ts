import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBlob } from '@ctrd/content';
import { createLocalStore } from '@ctrd/content-local';
import { isFailedPrecondition, isUnavailable } from '@ctrd/errdefs';
import { openMetadataDB, type MetadataDB } from '@ctrd/metadata-level';
import { createNativeSnapshotter } from '@ctrd/snapshotter-native';
import { formatReport, fsckCommand, runFsck, type FsckReport } from './index.js';

const CONTENT = 'io.containerd.content.v1.content';
const NATIVE = 'io.containerd.snapshotter.v1.native';
const META = join('io.containerd.metadata.v1.level', 'meta.db');
const SPEC = { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Spec', value: new Uint8Array([123, 125]) };

interface Root {
  root: string;
  digest: string;
  db?: MetadataDB;
}

/** makeRoot lays out a small ctrd root with the stores themselves: a blob, an image, snapshots, a container. */
async function makeRoot(keepOpen = false): Promise<Root> {
  const root = mkdtempSync(join(tmpdir(), 'ctrd-fsck-'));
  const backing = await createLocalStore(join(root, CONTENT));
  const native = await createNativeSnapshotter(join(root, NATIVE));
  const db = await openMetadataDB(join(root, META));
  const content = db.contentStore(backing).forNamespace('ns');
  const sn = db.addSnapshotter('native', native).forNamespace('ns');
  const data = Buffer.from('{"schemaVersion":2}');
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeBlob(content, 'ref1', data, { digest, size: data.length });
  await db.images.create('ns', { name: 'img', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: data.length } });
  await sn.prepare('a');
  await sn.commit('base', 'a');
  await sn.prepare('rootfs', 'base');
  await db.containers.create('ns', { id: 'c1', runtime: { name: 'r' }, spec: SPEC, snapshotter: 'native', snapshotKey: 'rootfs' });
  await native.close();
  if (keepOpen) return { root, digest, db };
  await db.close();
  return { root, digest };
}

const codes = (r: FsckReport, severity = 'error') => r.findings.filter((f) => f.severity === severity && !f.repaired).map((f) => f.code).sort();

describe('runFsck', () => {
  const roots: string[] = [];
  const fresh = async () => {
    const r = await makeRoot();
    roots.push(r.root);
    return r;
  };
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  test('a consistent root checks clean', async () => {
    const { root } = await fresh();
    const r = await runFsck({ root });
    assert.equal(r.errors, 0, formatReport(r));
    assert.equal(r.warnings, 0, formatReport(r));
    assert.equal(r.checked.blobs, 1);
    assert.equal(r.checked.containers, 1);
    assert.equal(r.checked.snapshotRecords, 2);
  });

  test('a blob whose bytes do not match its digest is an error', async () => {
    const { root, digest } = await fresh();
    const path = join(root, CONTENT, 'blobs', 'sha256', digest.slice(7));
    chmodSync(path, 0o644);
    const bytes = readFileSync(path);
    bytes[0]! ^= 1;
    writeFileSync(path, bytes);
    const r = await runFsck({ root });
    assert.deepEqual(codes(r), ['blob-digest-mismatch']);
    assert.deepEqual(codes(await runFsck({ root, skipDigests: true })), []);
  });

  test('a missing blob breaks the namespace record and the image target', async () => {
    const { root, digest } = await fresh();
    rmSync(join(root, CONTENT, 'blobs', 'sha256', digest.slice(7)));
    assert.deepEqual(codes(await runFsck({ root })), ['blob-missing', 'image-target-missing']);
  });

  test('a committed snapshot without its tree is an error', async () => {
    const { root } = await fresh();
    rmSync(join(root, NATIVE, 'snapshots', '1'), { recursive: true });
    assert.deepEqual(codes(await runFsck({ root })), ['snapshot-dir-missing']);
  });

  test('a container whose snapshot is gone is a warning (the API permits it), not an error', async () => {
    const { root } = await fresh();
    const db = await openMetadataDB(join(root, META));
    await db.containers.create('ns', { id: 'c2', runtime: { name: 'r' }, spec: SPEC, snapshotter: 'native', snapshotKey: 'nope' });
    await db.close();
    const report = await runFsck({ root });
    assert.deepEqual(codes(report), []);
    assert.deepEqual(codes(report, 'warning'), ['container-snapshot-missing']);
  });

  test('a task bundle must belong to an existing container', async () => {
    const { root } = await fresh();
    const state = join(root, 'state');
    mkdirSync(join(state, 'io.containerd.runtime.v2.task', 'ns', 'c1'), { recursive: true });
    assert.deepEqual(codes(await runFsck({ root, state })), []);
    mkdirSync(join(state, 'io.containerd.runtime.v2.task', 'ns', 'ghost'));
    const r = await runFsck({ root, state });
    assert.deepEqual(codes(r), ['task-bundle-orphan']);
    assert.equal(r.checked.taskBundles, 2);
  });

  test('leftovers are warnings that repair removes', async () => {
    const { root } = await fresh();
    mkdirSync(join(root, NATIVE, 'snapshots', 'new-x1'));
    writeFileSync(join(root, NATIVE, 'metadata.json.tmp'), '{');
    writeFileSync(join(root, CONTENT, 'info', 'sha256', `${'0'.repeat(64)}.json`), '{}');
    // Ingests killed while being created: before the ref file was made, and before it was written.
    for (const [name, ref] of [['a'.repeat(64), undefined], ['b'.repeat(64), '']] as const) {
      mkdirSync(join(root, CONTENT, 'ingest', name), { recursive: true });
      writeFileSync(join(root, CONTENT, 'ingest', name, 'data'), 'partial');
      if (ref !== undefined) writeFileSync(join(root, CONTENT, 'ingest', name, 'ref'), ref);
    }
    const r = await runFsck({ root });
    assert.equal(r.errors, 0, formatReport(r));
    assert.deepEqual(codes(r, 'warning'), ['ingest-incomplete', 'ingest-incomplete', 'metastore-tmp', 'sidecar-without-blob', 'snapshot-dir-orphan']);
    const fixed = await runFsck({ root, repair: true });
    assert.equal(fixed.warnings, 0);
    assert.equal(fixed.findings.filter((f) => f.repaired).length, 5);
    assert.deepEqual(codes(await runFsck({ root }), 'warning'), []);
  });

  test('fsckCommand prints JSON and exits 1 on errors, 0 when clean', async () => {
    const { root, digest } = await fresh();
    let out = '';
    assert.equal(await fsckCommand({ root, format: 'json', out: (t) => (out += t) }), 0);
    assert.equal(JSON.parse(out).errors, 0);
    rmSync(join(root, CONTENT, 'blobs', 'sha256', digest.slice(7)));
    out = '';
    assert.equal(await fsckCommand({ root, out: (t) => (out += t) }), 1);
    assert.match(out, /ERROR metadata blob-missing: ns\/content\/sha256:/);
  });
});

describe('runFsck refuses a running daemon', () => {
  let r: Root;
  before(async () => {
    r = await makeRoot(true);
  });
  after(async () => {
    await r.db?.close();
    rmSync(r.root, { recursive: true, force: true });
  });

  test('while the socket answers', async () => {
    const address = join(r.root, 'ctrd.sock');
    const server = createServer().listen(address);
    await new Promise((res) => server.once('listening', res));
    try {
      await assert.rejects(runFsck({ root: r.root, address }), (err) => isFailedPrecondition(err));
      let out = '';
      assert.equal(await fsckCommand({ root: r.root, address, out: (t) => (out += t) }), 2);
      assert.match(out, /ctrd is running/);
    } finally {
      server.close();
    }
  });

  test('while the metadata database is locked', async () => {
    await assert.rejects(runFsck({ root: r.root }), (err) => isUnavailable(err) && /locked/.test((err as Error).message));
  });
});
