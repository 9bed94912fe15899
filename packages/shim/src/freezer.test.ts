import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownError } from '@ctrd/errdefs';
import { type CgroupFiles, freeze, freezerOf, thaw } from './freezer.js';

/** scripted answers each read of a file with the next of its values (the last one repeats). */
function scripted(reads: Record<string, string[]>): CgroupFiles & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    read(path) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const q = reads[name];
      if (q === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT', syscall: 'open' });
      return q.length > 1 ? q.shift()! : q[0];
    },
    write(path, data) {
      writes.push(`${path.slice(path.lastIndexOf('/') + 1)}=${data}`);
    },
  };
}

const fast = { attempts: 10, thawEvery: 4, backoffMs: 1 };

describe('freezer', () => {
  it('picks the v1 freezer controller or the v2 cgroup', () => {
    assert.deepEqual(freezerOf({ version: 1, dirs: { memory: '/m', freezer: '/f' } }), { version: 1, dir: '/f' });
    assert.equal(freezerOf({ version: 1, dirs: { memory: '/m' } }), undefined);
    assert.deepEqual(freezerOf({ version: 2, dir: '/u' }), { version: 2, dir: '/u' });
    assert.equal(freezerOf(undefined), undefined);
  });

  it('v1: writes FROZEN until the state reads FROZEN', async () => {
    const files = scripted({ 'freezer.state': ['FREEZING', 'FREEZING', 'FROZEN'] });
    await freeze({ version: 1, dir: '/cg' }, files, fast);
    assert.deepEqual(files.writes, ['freezer.state=FROZEN', 'freezer.state=FROZEN', 'freezer.state=FROZEN']);
  });

  it('v1: thaws now and then while stuck, and thaws for good when it gives up', async () => {
    const files = scripted({ 'freezer.state': ['FREEZING'] });
    await assert.rejects(freeze({ version: 1, dir: '/cg' }, files, fast), (e: Error) => e instanceof UnknownError && /unable to freeze/.test(e.message));
    const thaws = files.writes.flatMap((w, i) => (w === 'freezer.state=THAWED' ? [i] : []));
    assert.deepEqual(thaws, [4, 9, 12], 'after the 4th and 8th write, and once at the end');
    assert.equal(files.writes.filter((w) => w === 'freezer.state=FROZEN').length, 10);
  });

  it('v1: an unexpected state is an error and leaves the cgroup thawed', async () => {
    const files = scripted({ 'freezer.state': ['THAWED'] });
    await assert.rejects(freeze({ version: 1, dir: '/cg' }, files, fast), /state THAWED after writing FROZEN/);
    assert.deepEqual(files.writes, ['freezer.state=FROZEN', 'freezer.state=THAWED']);
  });

  it('v1: a missing file reaches the caller as the system error it is', async () => {
    const files: CgroupFiles = {
      read: () => '',
      write: () => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open' });
      },
    };
    await assert.rejects(freeze({ version: 1, dir: '/gone' }, files, fast), (e: NodeJS.ErrnoException) => e.syscall === 'open');
  });

  it('v2: writes cgroup.freeze and waits for cgroup.events to say frozen', async () => {
    const files = scripted({ 'cgroup.events': ['populated 1\nfrozen 0\n', 'populated 1\nfrozen 0\n', 'populated 1\nfrozen 1\n'] });
    await freeze({ version: 2, dir: '/cg' }, files, fast);
    assert.deepEqual(files.writes, ['cgroup.freeze=1']);
    const thawing = scripted({ 'cgroup.events': ['populated 1\nfrozen 1\n', 'populated 1\nfrozen 0\n'] });
    await thaw({ version: 2, dir: '/cg' }, thawing, fast);
    assert.deepEqual(thawing.writes, ['cgroup.freeze=0']);
  });

  it('v2: gives up after its attempts and thaws', async () => {
    const files = scripted({ 'cgroup.events': ['populated 1\nfrozen 0\n'] });
    await assert.rejects(freeze({ version: 2, dir: '/cg' }, files, fast), /not frozen after 10 ms/);
    assert.deepEqual(files.writes, ['cgroup.freeze=1', 'cgroup.freeze=0']);
  });
});

/** cpuTicks is utime + stime of a process, from /proc/<pid>/stat. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const V1_FREEZER = '/sys/fs/cgroup/freezer';
const v1Missing = process.getuid?.() !== 0
  ? 'needs root to create a cgroup'
  : !existsSync(`${V1_FREEZER}/freezer.state`) && !existsSync(`${V1_FREEZER}/tasks`)
    ? `no cgroup v1 freezer hierarchy at ${V1_FREEZER}`
    : false;

describe('freezer on the kernel', () => {
  it('stops a busy process in a v1 cgroup and lets it run again', { skip: v1Missing }, async () => {
    const dir = `${V1_FREEZER}/ctrd-freezer-test-${process.pid}`;
    mkdirSync(dir);
    const child = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    try {
      writeFileSync(`${dir}/cgroup.procs`, String(child.pid));
      await freeze({ version: 1, dir });
      assert.equal(readFileSync(`${dir}/freezer.state`, 'utf8').trim(), 'FROZEN');
      const frozenAt = cpuTicks(child.pid!);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(cpuTicks(child.pid!), frozenAt, 'no CPU time while frozen');
      await thaw({ version: 1, dir });
      assert.equal(readFileSync(`${dir}/freezer.state`, 'utf8').trim(), 'THAWED');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(cpuTicks(child.pid!) > frozenAt, 'runs again once thawed');
    } finally {
      child.kill('SIGKILL');
      writeFileSync(`${dir}/freezer.state`, 'THAWED');
      await new Promise((r) => child.once('exit', r));
      rmdirSync(dir);
    }
  });
});
