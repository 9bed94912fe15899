import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RuncCommands } from './runc.js';
import { mountArgs } from './rootfs.js';

const runc = new RuncCommands({ binary: 'runc', root: '/run/containerd/runc/default', log: '/b/log.json' });
const g = ['--root', '/run/containerd/runc/default', '--log', '/b/log.json', '--log-format', 'json'];

describe('RuncCommands', () => {
  it('builds create, start, exec, kill, delete, ps, update, pause, resume', () => {
    assert.deepEqual(runc.create('c', { bundle: '/b', pidFile: '/b/init.pid' }), [...g, 'create', '--bundle', '/b', '--pid-file', '/b/init.pid', 'c']);
    assert.deepEqual(runc.create('c', { bundle: '/b', pidFile: '/p', consoleSocket: '/s', noPivot: true, noNewKeyring: true }),
      [...g, 'create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', 'c']);
    assert.deepEqual(runc.start('c'), [...g, 'start', 'c']);
    assert.deepEqual(runc.exec('c', { processFile: '/b/e.json', pidFile: '/b/e.pid' }),
      [...g, 'exec', '--process', '/b/e.json', '--detach', '--pid-file', '/b/e.pid', 'c']);
    assert.deepEqual(runc.kill('c', 9, true), [...g, 'kill', '--all', 'c', '9']);
    assert.deepEqual(runc.kill('c', 15, false), [...g, 'kill', 'c', '15']);
    assert.deepEqual(runc.delete('c', true), [...g, 'delete', '--force', 'c']);
    assert.deepEqual(runc.ps('c'), [...g, 'ps', '--format', 'json', 'c']);
    assert.deepEqual(runc.update('c'), [...g, 'update', '--resources', '-', 'c']);
    assert.deepEqual(runc.pause('c'), [...g, 'pause', 'c']);
    assert.deepEqual(runc.resume('c'), [...g, 'resume', 'c']);
  });

  it('builds checkpoint and restore with CRIU options', () => {
    assert.deepEqual(runc.checkpoint('c', { imagePath: '/img', workPath: '/w', openTcp: true, terminal: true, emptyNamespaces: ['network'] }),
      [...g, 'checkpoint', '--image-path', '/img', '--work-path', '/w', '--tcp-established', '--shell-job', '--empty-ns', 'network', '--leave-running', 'c']);
    assert.deepEqual(runc.checkpoint('c', { imagePath: '/img', exit: true }), [...g, 'checkpoint', '--image-path', '/img', 'c']);
    assert.deepEqual(runc.restore('c', { bundle: '/b', pidFile: '/p', imagePath: '/img' }),
      [...g, 'restore', '--detach', '--pid-file', '/p', '--image-path', '/img', '--bundle', '/b', 'c']);
  });

  it('adds --criu and --systemd-cgroup when configured', () => {
    const r = new RuncCommands({ binary: 'runc', root: '/r', criu: '/usr/sbin/criu', systemdCgroup: true });
    assert.deepEqual(r.start('c'), ['--root', '/r', '--criu', '/usr/sbin/criu', '--systemd-cgroup', 'start', 'c']);
  });
});

describe('mountArgs', () => {
  it('turns containerd mounts into mount(8) arguments', () => {
    assert.deepEqual(mountArgs({ type: 'bind', source: '/src', target: '', options: ['rbind', 'ro'] }, '/b/rootfs'),
      ['-o', 'rbind,ro', '/src', '/b/rootfs']);
    assert.deepEqual(mountArgs({ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/l', 'upperdir=/u', 'workdir=/w'] }, '/t'),
      ['-t', 'overlay', '-o', 'lowerdir=/l,upperdir=/u,workdir=/w', 'overlay', '/t']);
  });
});
