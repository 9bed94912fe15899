import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrls, packAny } from '@ctrd/api';
import { CheckpointOptions } from '@ctrd/api/gen/containerd/runtime/v2/runc/options/oci.js';
import type { EventSink } from './publisher.js';
import { Reaper } from './reaper.js';
import { TaskService } from './task-service.js';

const run = promisify(execFile);

// Records each call; create/restore leave a sleeping process behind and write its pid file.
const STAND_IN_RUNC = `#!/bin/sh
echo "$*" >> "$RUNC_LOG"
pidfile= prev= last= beforelast=
for a in "$@"; do [ "$prev" = --pid-file ] && pidfile=$a; prev=$a; beforelast=$last; last=$a; done
for a in "$@"; do
  case $a in
  create|restore) sleep 1000 >/dev/null 2>&1 & echo $! > "$pidfile"; echo $! > "$RUNC_LOG.$last"; exit 0 ;;
  kill) kill -"$last" "$(cat "$RUNC_LOG.$beforelast")"; exit 0 ;;
  ps) echo '[]'; exit 0 ;;
  start|delete|checkpoint) exit 0 ;;
  esac
done
`;

describe('checkpoint and restore plumbing (stand-in runc)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-ckpt-'));
  const log = join(dir, 'runc.log');
  const runc = join(dir, 'runc');
  const events: string[] = [];
  const sink: EventSink = { publish: (topic, _url, _codec, ev) => events.push(`${topic} ${JSON.stringify(ev)}`) };
  const reaper = new Reaper();
  let svc: TaskService;

  before(() => {
    writeFileSync(runc, STAND_IN_RUNC);
    chmodSync(runc, 0o755);
    process.env.RUNC_LOG = log;
    reaper.start();
    svc = new TaskService({ namespace: 'ns', reaper, events: sink, runcBinary: runc, runcRoot: join(dir, 'root') });
  });
  after(() => {
    svc.close();
    reaper.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const calls = (): string[] => readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(/^.* --log-format json /, ''));
  const req = (id: string, checkpoint = '') => {
    const bundle = join(dir, id);
    mkdirSync(bundle, { recursive: true });
    return { id, bundle, rootfs: [], terminal: false, stdin: '', stdout: '', stderr: '', checkpoint, parentCheckpoint: '', options: undefined };
  };

  it('passes CRIU options to runc checkpoint and publishes /tasks/checkpointed', async () => {
    await svc.create(req('c1'));
    await svc.start({ id: 'c1', execId: '' });
    const options = packAny(TypeUrls.RuncCheckpointOptions, CheckpointOptions, CheckpointOptions.fromPartial({
      openTcp: true, externalUnixSockets: true, fileLocks: true, workPath: '/work', emptyNamespaces: ['network'],
    }));
    await svc.checkpoint({ id: 'c1', path: '/img', options });
    assert.equal(calls().at(-1), 'checkpoint --image-path /img --work-path /work --tcp-established --ext-unix-sk --file-locks --empty-ns network --leave-running c1');
    assert.match(events.at(-1) ?? '', /^\/tasks\/checkpointed \{"containerId":"c1","checkpoint":"\/img"\}$/);
    await svc.kill({ id: 'c1', execId: '', signal: 9, all: false });
    assert.equal((await svc.wait({ id: 'c1', execId: '' })).exitStatus, 137);
    await svc.delete({ id: 'c1', execId: '' });
  });

  it('restores from a checkpoint on Start, not on Create', async () => {
    const before = calls().length;
    const r = req('c2', '/img2');
    await svc.create(r);
    assert.equal(calls().length, before, 'no runc call at create');
    const { pid } = await svc.start({ id: 'c2', execId: '' });
    assert.ok(pid > 0);
    assert.equal(calls().at(-1), `restore --detach --pid-file ${r.bundle}/init.pid --image-path /img2 --bundle ${r.bundle} c2`);
    process.kill(pid, 'SIGKILL');
    assert.equal((await svc.wait({ id: 'c2', execId: '' })).exitStatus, 137);
    await svc.delete({ id: 'c2', execId: '' });
    const topics = events.filter((e) => e.includes('"c2"')).map((e) => e.split(' ')[0]);
    assert.deepEqual(topics, ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
  });

  it('checkpoints a real container with CRIU', async (t) => {
    const check = await run('criu', ['check']).then(() => '', (err: { stderr?: string; message: string }) => (err.stderr || err.message).trim());
    if (check !== '') return t.skip(`criu check fails on this kernel: ${check.split('\n').at(-1)}`);
    t.skip('a real CRIU round trip is left to the daemon tests');
  });
});
