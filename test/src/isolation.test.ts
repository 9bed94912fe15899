import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RemoteContainerStore, RemoteContentStore, RemoteEvents, RemoteImageStore, RemoteLeaseManager, RemoteSnapshotter, RemoteTasks, type Connection } from '@ctrd/client';
import { writeBlob } from '@ctrd/content';
import { isNotFound } from '@ctrd/errdefs';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, findBusybox, writeOciArchive, type FixtureImage } from '@ctrd/images/fixtures';
import { TestDaemon, missingTool, notRoot, run, type RunResult, NO_AUTO_GC } from './harness.js';

const IMAGE = 'docker.io/library/busybox:isolation';
const SHIM = 'io.containerd.ctrd.v1';
const GRPC_GID = 4242;
const TTRPC_GID = 4243;
// Task IDs and cgroups are shared by every daemon on the host: namespaces of this file's own.
const tag = randomBytes(3).toString('hex');
const A = `iso-a-${tag}`;
const B = `iso-b-${tag}`;
const skip = missingTool('ctr', 'runc', 'setpriv') ?? notRoot() ?? (findBusybox() ? undefined : 'busybox-static not installed');

const ok = (r: RunResult): string => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const fails = (r: RunResult, pattern = /not found/): void => {
  assert.notEqual(r.code, 0, `expected a failure, got: ${r.stdout}`);
  assert.match(r.stderr, pattern);
};

/**
 * rootedBlob stores `data` in a namespace with a gc root label set at commit, so that no garbage
 * collection (which another namespace's removals trigger) can take it before the test looks.
 */
async function rootedBlob(conn: Connection, namespace: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeBlob(new RemoteContentStore(conn, { namespace }), `rooted-${digest.slice(7, 19)}`, data, { digest, size: data.length }, { labels: { 'containerd.io/gc.root': 'isolation' } });
  return digest;
}

/** asUser runs a command with another uid and primary gid, no supplementary groups. */
function asUser(uid: number, gid: number, cmd: string[]): RunResult {
  return run('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', ...cmd]);
}

/** canConnect reports, from a process running as uid:gid, whether a unix socket accepts it (or the errno). */
function canConnect(uid: number, gid: number, path: string): string {
  const script = `const s=require('net').connect(${JSON.stringify(path)});s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',(e)=>console.log(e.code))`;
  return asUser(uid, gid, [process.execPath, '-e', script]).stdout.trim();
}

describe('namespaces and sockets keep clients apart', { skip }, () => {
  let d: TestDaemon;
  let fixtures: string;
  let img: FixtureImage;
  let conn: Connection;
  const ctr = (ns: string, args: string[]) => d.ctr(args, { namespace: ns });

  before(async () => {
    fixtures = await mkdtemp(join(tmpdir(), 'ctrd-iso-fixtures-'));
    const store = await createLocalStore(join(fixtures, 'store'));
    img = await buildBusyboxImage(store, { layers: 'single', name: IMAGE });
    await writeOciArchive(store, img, join(fixtures, 'busybox.tar'), { name: IMAGE });
    d = await TestDaemon.create();
    const cfg = readFileSync(d.configPath, 'utf8').replace('[grpc]\n', `[grpc]\nuid = 0\ngid = ${GRPC_GID}\n`);
    writeFileSync(d.configPath, `${cfg}[ttrpc]\ngid = ${TTRPC_GID}\n`);
    // Only so that an unprivileged process can reach the socket file and be judged by its mode.
    chmodSync(d.dir, 0o711);
    await d.boot();
    conn = connect(d.address);
    ok(ctr(A, ['images', 'import', join(fixtures, 'busybox.tar')]));
  });
  after(async () => {
    conn?.close();
    for (const ns of [A, B]) {
      for (const id of d?.ctr(['tasks', 'ls', '-q'], { namespace: ns }).stdout.split('\n').filter(Boolean) ?? []) d.ctr(['tasks', 'kill', '-s', 'SIGKILL', id], { namespace: ns });
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const ns of [A, B]) {
      for (const id of d?.ctr(['tasks', 'ls', '-q'], { namespace: ns }).stdout.split('\n').filter(Boolean) ?? []) d.ctr(['tasks', 'delete', '-f', id], { namespace: ns });
      for (const id of d?.ctr(['containers', 'ls', '-q'], { namespace: ns }).stdout.split('\n').filter(Boolean) ?? []) d.ctr(['containers', 'rm', id], { namespace: ns });
    }
    await d?.dispose();
    await rm(fixtures, { recursive: true, force: true });
  });

  test('the gRPC socket is 0660 root:<[grpc] gid>; only root and that group get in', () => {
    const st = statSync(d.address);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, GRPC_GID);
    const tt = statSync(`${d.address}.ttrpc`);
    assert.equal(tt.mode & 0o777, 0o660);
    assert.equal(tt.gid, TTRPC_GID);
    assert.match(ok(asUser(65534, GRPC_GID, ['ctr', '--address', d.address, 'version'])), /Server:/);
    const out = asUser(65534, 65534, ['ctr', '--address', d.address, '--timeout', '3s', 'version']);
    assert.notEqual(out.code, 0, 'a user outside the group is refused');
    assert.match(out.stderr, /permission denied/i);
    assert.equal(canConnect(65534, 65534, d.address), 'EACCES');
    assert.equal(canConnect(65534, 65534, `${d.address}.ttrpc`), 'EACCES', 'the ttrpc socket is closed to others too');
    assert.equal(canConnect(65534, TTRPC_GID, `${d.address}.ttrpc`), 'connected');
  });

  test('images, content, containers and snapshots of A are invisible and untouchable from B (ctr)', async () => {
    const data = randomBytes(4096);
    const dg = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    await rootedBlob(conn, A, data);
    ok(ctr(A, ['containers', 'create', IMAGE, 'c1', 'true']));
    const chain = img.chainIds.at(-1)!;

    assert.equal(ok(ctr(B, ['images', 'ls', '-q'])).trim(), '');
    assert.doesNotMatch(ok(ctr(B, ['content', 'ls', '-q'])), new RegExp(`${dg}|${img.target.digest}`));
    assert.equal(ok(ctr(B, ['containers', 'ls', '-q'])).trim(), '');
    assert.doesNotMatch(ok(ctr(B, ['snapshots', 'ls'])), new RegExp(chain));
    fails(ctr(B, ['content', 'get', dg]));
    fails(ctr(B, ['containers', 'info', 'c1']));
    fails(ctr(B, ['snapshots', 'info', chain]));
    fails(ctr(B, ['snapshots', 'prepare', 'steal', chain]));
    ctr(B, ['images', 'rm', IMAGE]);
    ctr(B, ['content', 'rm', dg]);
    ctr(B, ['containers', 'rm', 'c1']);
    ctr(B, ['snapshots', 'rm', chain]);
    ctr(B, ['images', 'label', IMAGE, 'pwned=1']);

    assert.match(ok(ctr(A, ['images', 'ls'])), new RegExp(`${IMAGE.replace(/[.]/g, '\\.')}.*${img.target.digest}`));
    assert.doesNotMatch(ok(ctr(A, ['images', 'ls'])), /pwned/);
    assert.match(ok(ctr(A, ['content', 'ls', '-q'])), new RegExp(dg));
    assert.match(ok(ctr(A, ['containers', 'ls', '-q'])), /^c1$/m);
    assert.match(ok(ctr(A, ['snapshots', 'ls'])), new RegExp(chain));

    // The same names in B are B's own objects; removing them leaves A's alone.
    ok(ctr(B, ['images', 'import', join(fixtures, 'busybox.tar')]));
    ok(ctr(B, ['containers', 'create', IMAGE, 'c1', 'true']));
    ok(ctr(B, ['containers', 'rm', 'c1']));
    // --sync: B's copies of the blobs go now, not at a later rate-limited collection, so that
    // the next test finds nothing of the image in B.
    ok(ctr(B, ['images', 'rm', '--sync', IMAGE]));
    assert.match(ok(ctr(A, ['containers', 'ls', '-q'])), /^c1$/m);
    assert.match(ok(ctr(A, ['images', 'ls', '-q'])), new RegExp(IMAGE.replace(/[.]/g, '\\.')));
    ok(ctr(A, ['containers', 'rm', 'c1']));
  });

  test('a task of A is invisible from B and cannot be signalled, exec-ed into or deleted from it', async () => {
    ok(ctr(A, ['run', '-d', '--runtime', SHIM, IMAGE, 't1', 'sleep', '60']));
    assert.equal(ok(ctr(B, ['tasks', 'ls', '-q'])).trim(), '');
    fails(ctr(B, ['tasks', 'kill', '-s', 'SIGKILL', 't1']));
    fails(ctr(B, ['tasks', 'exec', '--exec-id', 'x', 't1', 'true']));
    fails(ctr(B, ['tasks', 'pause', 't1']));
    ctr(B, ['tasks', 'delete', '-f', 't1']);
    await new Promise((r) => setTimeout(r, 200));
    assert.match(ok(ctr(A, ['tasks', 'ls'])), /^t1\s+\d+\s+RUNNING$/m);
  });

  test('the API answers not found for A\'s objects asked from B, and changes nothing', async () => {
    const target = img.target.digest;
    const chain = img.chainIds.at(-1)!;
    ok(ctr(A, ['leases', 'create', '--id', 'lease-a']));
    const nf = (p: Promise<unknown>) => assert.rejects(p, (e: Error) => isNotFound(e));
    const content = new RemoteContentStore(conn, { namespace: B });
    await nf(content.info(target));
    await nf(content.delete(target));
    await nf(content.readerAt({ digest: target, size: img.target.size }));
    await nf(content.update({ digest: target, labels: { pwned: '1' } }, ['labels.pwned']));
    const images = new RemoteImageStore(conn);
    await nf(images.get(B, IMAGE));
    await nf(images.delete(B, IMAGE));
    const containers = new RemoteContainerStore(conn);
    await nf(containers.get(B, 't1'));
    await nf(containers.delete(B, 't1'));
    const snaps = new RemoteSnapshotter(conn, 'overlayfs', { namespace: B });
    await nf(snaps.stat(chain));
    await nf(snaps.mounts(chain));
    await nf(snaps.remove(chain));
    await nf(snaps.prepare(`steal-${tag}`, chain));
    await nf(new RemoteLeaseManager(conn).delete(B, 'lease-a'));
    const tasks = new RemoteTasks(conn, { namespace: B });
    await nf(tasks.get('t1'));
    await nf(tasks.kill('t1', 9));
    await nf(tasks.delete('t1'));

    assert.ok((await new RemoteContentStore(conn, { namespace: A }).info(target)).labels?.pwned === undefined);
    assert.equal((await images.get(A, IMAGE)).target.digest, target);
    assert.equal((await containers.get(A, 't1')).id, 't1');
    assert.equal((await new RemoteSnapshotter(conn, 'overlayfs', { namespace: A }).stat(chain)).name, chain);
    assert.equal((await new RemoteTasks(conn, { namespace: A }).get('t1')).status, 'RUNNING');
    assert.ok((await new RemoteLeaseManager(conn).list(A)).some((l) => l.id === 'lease-a'));
  });

  test('events carry their namespace; a subscriber filtering on B sees none of A\'s', async () => {
    const ac = new AbortController();
    const events = new RemoteEvents(conn);
    const topic = `/isolation/${tag}`;
    const onlyB: string[] = [];
    const every: string[] = [];
    const pump = async (filters: string[], into: string[]) => {
      for await (const e of events.subscribe({ filters, signal: ac.signal })) into.push(`${e.namespace} ${e.topic} ${Buffer.from(e.event.value).toString()}`);
    };
    const pumps = [pump([`namespace==${B}`], onlyB), pump([`topic==${JSON.stringify(topic)}`], every)];
    await new Promise((r) => setTimeout(r, 300));
    const payload = (s: string) => ({ typeUrl: 'ctrd.test/isolation', value: Buffer.from(s) });
    await events.publish(A, topic, payload('from-a'));
    await events.publish(B, topic, payload('from-b'));
    const deadline = Date.now() + 5000;
    while ((onlyB.length < 1 || every.length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    await Promise.all(pumps);
    assert.deepEqual(onlyB, [`${B} ${topic} from-b`]);
    assert.deepEqual(every, [`${A} ${topic} from-a`, `${B} ${topic} from-b`]);
  });

  test('the shim\'s ttrpc socket is 0600 root-owned: an unprivileged process cannot connect', () => {
    const key = createHash('sha256').update(`${d.address}/${A}`).digest('hex').slice(0, 16);
    const dir = process.env.CTRD_SHIM_RUN_DIR || '/run/ctrd-shim';
    const sock = join(dir, `${key}.sock`);
    assert.ok(existsSync(sock), `shim socket ${sock}`);
    const st = statSync(sock);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    assert.equal(statSync(dir).mode & 0o022, 0, 'the shim directory is not writable by others');
    assert.equal(canConnect(65534, 65534, sock), 'EACCES');
    assert.equal(canConnect(65534, 0, sock), 'EACCES', 'not even with root\'s group');
  });

  test('a container does not see the daemon\'s socket or root', () => {
    const r = ctr(A, ['run', '--rm', '--runtime', SHIM, IMAGE, `peek-${tag}`, 'sh', '-c', `ls ${JSON.stringify(d.address)} ${JSON.stringify(d.root)} 2>&1; ls /run`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No such file or directory[\s\S]*No such file or directory/);
  });
});

describe('content sharing between namespaces', { skip: missingTool('ctr') ?? notRoot() }, () => {
  /** takeByDigest has B ingest A's blob while sending 3000 wrong bytes, as a seekable file. */
  async function takeByDigest(policy: string): Promise<{ ingest: RunResult; get: RunResult; digest: string }> {
    // B's ingested record is unreferenced until read: no collection may fall in between.
    const d = await TestDaemon.start({ toml: `[plugins."io.containerd.metadata.v1.level"]\ncontent_sharing_policy = "${policy}"\n${NO_AUTO_GC}` });
    try {
      const data = randomBytes(3000);
      const dg = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      const c = connect(d.address);
      await rootedBlob(c, A, data);
      c.close();
      const wrong = join(d.dir, 'wrong');
      writeFileSync(wrong, Buffer.alloc(3000));
      const ingest = run('sh', ['-c', `exec ctr --address "$0" --namespace "$1" content ingest --expected-digest "$2" --expected-size 3000 r2 < "$3"`, d.address, B, dg, wrong]);
      const get = run('bash', ['-c', 'set -o pipefail; ctr --address "$0" --namespace "$1" content get "$2" | sha256sum', d.address, B, dg]);
      return { ingest, get, digest: dg };
    } finally {
      await d.dispose();
    }
  }

  test('shared (the default, as containerd): B takes A\'s blob by naming its digest and size', async () => {
    const { ingest, get, digest } = await takeByDigest('shared');
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(`sha256:${get.stdout.split(' ')[0]}`, digest, 'B reads A\'s bytes, not the ones it sent');
  });

  test('isolated: B must send the bytes; the digest alone gets it nothing', async () => {
    const { ingest, get } = await takeByDigest('isolated');
    assert.notEqual(ingest.code, 0);
    assert.match(ingest.stderr, /digest|unexpected commit/i);
    fails(get);
  });
});
