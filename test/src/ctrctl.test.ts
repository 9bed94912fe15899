import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { codeCacheFile } from '@ctrd/code-cache';
import { CTRCTL, NO_AUTO_GC, TestDaemon, busyboxMissing, writeBusyboxArchive, type RunResult } from './harness.js';

const ok = (r: RunResult): string => {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

const failed = (r: RunResult, pattern: RegExp): void => {
  assert.notEqual(r.code, 0, `expected failure, got:\n${r.stdout}`);
  assert.match(r.stderr, /^ctrctl: /m);
  assert.match(r.stderr, pattern);
};

/** withDaemon runs `fn` against a fresh daemon; `toml` is added to its config. */
async function withDaemon(fn: (d: TestDaemon) => Promise<void>, toml?: string): Promise<void> {
  const d = await TestDaemon.start(toml === undefined ? {} : { toml });
  try {
    await fn(d);
  } finally {
    await d.dispose();
  }
}

interface JsonEvent {
  sequence?: number;
  namespace: string;
  topic: string;
  event: Record<string, unknown> | null;
}

/** watchEvents runs `ctrctl events --format json` in the background, collecting its lines. */
function watchEvents(d: TestDaemon, args: string[] = []) {
  const child = spawn(CTRCTL, ['--address', d.address, '--format', 'json', 'events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: JsonEvent[] = [];
  let buf = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    buf += b.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      events.push(JSON.parse(buf.slice(0, i)) as JsonEvent);
      buf = buf.slice(i + 1);
    }
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    events,
    stderr: () => stderr,
    async until(pred: (e: JsonEvent[]) => boolean, tick?: () => void, ms = 15_000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred(events)) {
        if (Date.now() > end) throw new Error(`timed out; events: ${JSON.stringify(events)}; stderr: ${stderr}`);
        tick?.();
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

test('ctrctl compiles its entry from the code cache its first run writes', async () => {
  await withDaemon(async (d) => {
    const cache = codeCacheFile(join(dirname(CTRCTL), 'ctrctl.cjs'));
    rmSync(cache, { force: true });
    assert.match(ok(d.ctrctl(['version'])), /Server:/);
    assert.ok(existsSync(cache), `${cache} written`);
    // From the cache, the entry's import of the rest of the CLI must still resolve.
    assert.match(ok(d.ctrctl(['namespaces', 'ls'])), /^NAME/);
  });
});

test('ctrctl namespaces create, ls, label and rm', async () => {
  await withDaemon(async (d) => {
    ok(d.ctrctl(['namespaces', 'create', 'alpha', 'team=a']));
    const ls = ok(d.ctrctl(['ns', 'ls']));
    assert.match(ls, /^NAME\s+LABELS$/m);
    assert.match(ls, /^alpha\s+team=a$/m);
    assert.deepEqual(ok(d.ctrctl(['ns', 'ls', '-q'])).trim().split('\n').includes('alpha'), true);
    assert.equal(ok(d.ctrctl(['ns', 'label', 'alpha', 'env=x'])).trim(), 'env=x,team=a');
    assert.equal(ok(d.ctrctl(['ns', 'label', 'alpha', 'team='])).trim(), 'env=x');
    const json = JSON.parse(ok(d.ctrctl(['--format', 'json', 'ns', 'ls']))) as Array<{ name: string; labels: Record<string, string> }>;
    assert.deepEqual(json.find((n) => n.name === 'alpha')?.labels, { env: 'x' });
    // ctr sees what ctrctl made.
    assert.match(ok(d.ctr(['namespaces', 'ls'])), /^alpha\s+env=x\s*$/m);

    // A namespace holding an image cannot go, and the message says what is left.
    const blob = Buffer.from('{}');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    ok(d.ctrctl(['-n', 'alpha', 'content', 'ingest', 'cfg', '--label', 'containerd.io/gc.root=1'], { input: blob }));
    failed(d.ctrctl(['ns', 'rm', 'alpha']), /alpha.*(content|blob)/);
    ok(d.ctrctl(['-n', 'alpha', 'content', 'rm', digest]));
    assert.equal(ok(d.ctrctl(['ns', 'rm', 'alpha'])).trim(), 'alpha');
    assert.doesNotMatch(ok(d.ctrctl(['ns', 'ls'])), /alpha/);
    const missing = d.ctrctl(['ns', 'rm', 'alpha']);
    assert.equal(missing.code, 0);
    assert.match(missing.stderr, /warning: namespace alpha not found/);
  });
});

test('ctrctl content ingest, ls, get, label, rm', async () => {
  await withDaemon(async (d) => {
    const data = Buffer.from('hello from ctrctl\n'.repeat(1000));
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    // The gc.root label keeps the unreferenced blob from the garbage collector.
    const ingested = JSON.parse(ok(d.ctrctl(['--format', 'json', 'content', 'ingest', 'test-ref', '--expected-digest', digest, '--label', 'containerd.io/gc.root=x'], { input: data })));
    assert.equal(ingested.digest, digest);
    const ls = ok(d.ctrctl(['content', 'ls']));
    assert.match(ls, /^DIGEST\s+SIZE\s+AGE\s+LABELS$/m);
    assert.match(ls, new RegExp(`^${digest}\\s+18kB\\s+.+\\s+containerd\\.io/gc\\.root=x$`, 'm'));
    assert.equal(ok(d.ctrctl(['content', 'ls', '-q'])).trim(), digest);

    const got = d.ctrctl(['content', 'get', digest]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(createHash('sha256').update(got.stdout).digest('hex'), digest.slice(7));
    assert.equal(got.stdout.length, data.length);

    assert.equal(ok(d.ctrctl(['content', 'label', digest, 'a=1', 'b=2'])).trim(), 'a=1,b=2,containerd.io/gc.root=x');
    assert.equal(ok(d.ctrctl(['content', 'label', digest, 'a='])).trim(), 'b=2,containerd.io/gc.root=x');
    const infos = JSON.parse(ok(d.ctrctl(['--format', 'json', 'content', 'ls']))) as Array<{ digest: string; size: number; labels: Record<string, string> }>;
    assert.deepEqual(infos.map((i) => [i.digest, i.size, i.labels]), [[digest, data.length, { b: '2', 'containerd.io/gc.root': 'x' }]]);

    // A wrong expected digest fails the ingest.
    failed(d.ctrctl(['content', 'ingest', 'bad-ref', '--expected-digest', `sha256:${'0'.repeat(64)}`], { input: 'x' }), /digest|precondition/i);

    assert.equal(ok(d.ctrctl(['content', 'rm', digest])).trim(), digest);
    failed(d.ctrctl(['content', 'get', digest]), /not found/);
    assert.match(d.ctrctl(['content', 'rm', digest]).stderr, /warning: content .* not found/);
    failed(d.ctrctl(['content', 'get', 'nonsense']), /digest/i);
  });
});

test('ctrctl content edit stores the edited blob and prints its digest', async () => {
  await withDaemon(async (d) => {
    const data = Buffer.from('{"a":1}\n');
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    ok(d.ctrctl(['content', 'ingest', 'edit-src', '--label', 'containerd.io/gc.root=1'], { input: data }));
    const editor = join(d.dir, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nsed -i s/1/2/ "$1"\n');
    await chmod(editor, 0o755);
    const edited = ok(d.ctrctl(['content', 'edit', digest], { env: { ...process.env, EDITOR: editor } })).trim();
    const want = `sha256:${createHash('sha256').update('{"a":2}\n').digest('hex')}`;
    assert.equal(edited, want);
    assert.equal(ok(d.ctrctl(['content', 'get', want])), '{"a":2}\n');
  });
});

// The archive is built in a local store, not through the daemon: blobs a client writes with no
// lease are garbage to the daemon, and its start-up collection may take them before they are read.
test('ctrctl images import, ls, tag, label, check, export, rm', { skip: busyboxMissing() }, async () => {
  await withDaemon(async (d) => {
    const archive = await writeBusyboxArchive(d.dir, 'docker.io/library/fixture:1');
    const imported = ok(d.ctrctl(['images', 'import', '--no-unpack', '--base-name', 'docker.io/library/fixture', archive]));
    assert.match(imported, /^docker\.io\/library\/fixture:1 sha256:/m);
    const ls = ok(d.ctrctl(['images', 'ls']));
    assert.match(ls, /^REF\s+TYPE\s+DIGEST\s+SIZE\s+UNPACKED\s+PLATFORMS\s+LABELS$/m);
    assert.match(ls, /^docker\.io\/library\/fixture:1\s+application\/vnd\.oci\.image\.(manifest|index)\.v1\+json\s+sha256:[0-9a-f]{64}\s+\d[\d.]* (B|KiB|MiB)\s+(-|\d[\d.]* (B|KiB|MiB))\s+linux\/\w+/m);

    assert.equal(ok(d.ctrctl(['images', 'tag', 'docker.io/library/fixture:1', 'example.com/copy:2'])).trim(), 'example.com/copy:2');
    failed(d.ctrctl(['images', 'tag', 'docker.io/library/fixture:1', 'example.com/copy:2']), /already exists/);
    ok(d.ctrctl(['images', 'tag', '--force', 'docker.io/library/fixture:1', 'example.com/copy:2']));
    // ctr agrees on the names.
    assert.deepEqual(ok(d.ctr(['images', 'ls', '-q'])).trim().split('\n').sort(), ['docker.io/library/fixture:1', 'example.com/copy:2']);

    assert.equal(ok(d.ctrctl(['images', 'label', 'example.com/copy:2', 'k=v'])).trim(), 'k=v');
    const json = JSON.parse(ok(d.ctrctl(['--format', 'json', 'images', 'ls']))) as Array<{ name: string; size: number; labels: Record<string, string>; platforms: string[] }>;
    const copy = json.find((i) => i.name === 'example.com/copy:2');
    assert.deepEqual(copy?.labels, { k: 'v' });
    assert.ok((copy?.size ?? 0) > 100_000, 'packed size counts the busybox layer');
    assert.ok(copy?.platforms.length === 1);

    const checked = ok(d.ctrctl(['images', 'check']));
    assert.match(checked, /^REF\s+TYPE\s+DIGEST\s+STATUS\s+SIZE\s+UNPACKED$/m);
    assert.match(checked, /^example\.com\/copy:2\s+\S+\s+sha256:\S+\s+complete \(2\/2\)\s+\S+ \S+\/\S+ \S+\s+/m);

    const out = join(d.dir, 'export.tar');
    ok(d.ctrctl(['images', 'export', out, 'example.com/copy:2']));
    ok(d.ctrctl(['-n', 'other', 'images', 'import', '--no-unpack', '--base-name', 'example.com/copy', out]));
    assert.match(ok(d.ctrctl(['-n', 'other', 'images', 'ls', '-q'])), /^example\.com\/copy:2$/m);

    assert.equal(ok(d.ctrctl(['images', 'rm', 'example.com/copy:2'])).trim(), 'example.com/copy:2');
    const again = d.ctrctl(['images', 'rm', 'example.com/copy:2']);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /warning: example\.com\/copy:2: image not found/);
    assert.deepEqual(ok(d.ctrctl(['images', 'ls', '-q'])).trim(), 'docker.io/library/fixture:1');
  });
});

test('ctrctl leases create, ls, rm', async () => {
  await withDaemon(async (d) => {
    assert.equal(ok(d.ctrctl(['leases', 'create', '--id', 'l1', 'owner=test'])).trim(), 'l1');
    const generated = ok(d.ctrctl(['leases', 'create', '-x', '0'])).trim();
    assert.match(generated, /^\d+-\S+$/);
    const ls = ok(d.ctrctl(['leases', 'ls']));
    assert.match(ls, /^ID\s+CREATED AT\s+LABELS$/m);
    assert.match(ls, /^l1\s+\d{4}-\d\d-\d\dT\S+\s+containerd\.io\/gc\.expire=\S+,owner=test$/m);
    assert.match(ls, new RegExp(`^${generated}\\s+\\S+\\s+-$`, 'm'));
    const json = JSON.parse(ok(d.ctrctl(['--format', 'json', 'leases', 'ls']))) as Array<{ id: string }>;
    assert.deepEqual(json.map((l) => l.id).sort(), [generated, 'l1'].sort());
    assert.match(ok(d.ctr(['leases', 'ls', '-q'])), /^l1$/m);
    assert.equal(ok(d.ctrctl(['leases', 'rm', 'l1', generated])).trim(), `l1\n${generated}`);
    assert.equal(ok(d.ctrctl(['leases', 'ls', '-q'])).trim(), '');
    failed(d.ctrctl(['leases', 'rm', 'l1']), /not found/);
  });
});

test('ctrctl containers ls, info, label, rm', async () => {
  await withDaemon(async (d) => {
    const spec = join(d.dir, 'config.json');
    await writeFile(spec, JSON.stringify({ ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' } }));
    const created = d.ctr(['containers', 'create', '--config', spec, 'c1']);
    if (created.code !== 0) return void assert.fail(`ctr containers create failed: ${created.stderr}`);
    const ls = ok(d.ctrctl(['containers', 'ls']));
    assert.match(ls, /^CONTAINER\s+IMAGE\s+RUNTIME$/m);
    assert.match(ls, /^c1\s+-\s+io\.containerd\.runc\.v2$/m);
    const info = JSON.parse(ok(d.ctrctl(['containers', 'info', 'c1'])));
    assert.equal(info.ID, 'c1');
    assert.deepEqual(info.Spec.process.args, ['true']);
    assert.equal(ok(d.ctrctl(['containers', 'label', 'c1', 'x=y'])).trim(), 'x=y');
    assert.equal(ok(d.ctrctl(['containers', 'rm', 'c1'])).trim(), 'c1');
    assert.equal(ok(d.ctrctl(['containers', 'ls', '-q'])).trim(), '');
    assert.match(d.ctrctl(['containers', 'rm', 'c1']).stderr, /warning: container c1 not found/);
  });
});

test('ctrctl events prints live events and replays after a sequence', async () => {
  await withDaemon(async (d) => {
    const live = watchEvents(d);
    let n = 0;
    try {
      await live.until(
        (es) => es.some((e) => e.topic === '/namespaces/create'),
        () => void d.ctrctl(['ns', 'create', `live-${n++}`]),
      );
    } finally {
      await live.stop();
    }
    const first = live.events.find((e) => e.topic === '/namespaces/create')!;
    assert.match(String(first.event?.name), /^live-\d+$/);

    ok(d.ctrctl(['ns', 'create', 'replayed']));
    const all = watchEvents(d, ['--since', '0']);
    try {
      await all.until((es) => es.some((e) => e.event?.name === 'replayed'));
    } finally {
      await all.stop();
    }
    const seqs = all.events.map((e) => e.sequence ?? -1);
    assert.ok(seqs.every((s) => s > 0), `sequences: ${seqs}`);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'replayed in order');
    const cut = all.events.find((e) => e.topic === '/namespaces/create')!.sequence!;

    const after = watchEvents(d, ['--since', String(cut), 'topic=="/namespaces/create"']);
    try {
      await after.until((es) => es.some((e) => e.event?.name === 'replayed'));
    } finally {
      await after.stop();
    }
    assert.ok(after.events.every((e) => e.sequence! > cut && e.topic === '/namespaces/create'), JSON.stringify(after.events));
  });
});

test('ctrctl reports errors as ctrctl: <message> with a non-zero exit', async () => {
  await withDaemon(async (d) => {
    failed(d.ctrctl(['images', 'tag', 'nope:1', 'x:1']), /not found/);
    failed(d.ctrctl(['containers', 'info', 'nope']), /not found/);
  });
});

// ctr's snapshots prepare takes no lease: the snapshots here are held by no GC root.
test('ctrctl snapshots ls, tree, usage, info, rm', async () => {
  await withDaemon(async (d) => {
    const sn = ['snapshots', '--snapshotter', 'native'];
    ok(d.ctr([...sn, 'prepare', 'k1']));
    ok(d.ctr([...sn, 'commit', 'c1', 'k1']));
    ok(d.ctr([...sn, 'prepare', 'k2', 'c1']));
    const ls = ok(d.ctrctl([...sn, 'ls']));
    assert.match(ls, /^KEY\s+PARENT\s+KIND$/m);
    assert.match(ls, /^c1\s+Committed$/m);
    assert.match(ls, /^k2\s+c1\s+Active$/m);
    assert.equal(ok(d.ctrctl([...sn, 'tree'])), ' c1\n  \\_ k2\n');
    assert.match(ok(d.ctrctl([...sn, 'usage', '-b', 'c1'])), /^c1\s+\d+\s+\d+$/m);
    const info = JSON.parse(ok(d.ctrctl([...sn, 'info', 'k2'])));
    assert.equal(info.Kind, 'Active');
    assert.equal(info.Parent, 'c1');
    const json = JSON.parse(ok(d.ctrctl(['--format', 'json', ...sn, 'ls']))) as Array<{ Name: string }>;
    assert.deepEqual(json.map((i) => i.Name).sort(), ['c1', 'k2']);
    const rm = d.ctrctl([...sn, 'rm', 'k2', 'nope']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stderr, /warning: snapshot nope not found/);
    assert.doesNotMatch(ok(d.ctrctl([...sn, 'ls'])), /k2/);
    failed(d.ctrctl([...sn, 'info', 'k2']), /not found/);
  }, NO_AUTO_GC);
});
