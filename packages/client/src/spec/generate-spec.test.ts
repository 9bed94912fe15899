import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { DEFAULT_CAPABILITIES, DEFAULT_PATH, generateSpec, SPEC_TYPE_URL, specAny } from './generate-spec.js';

const image = { Env: ['PATH=/bin', 'A=1'], Entrypoint: ['/entry'], Cmd: ['arg'], WorkingDir: '/work', User: '1000:1000' };

test('defaults: mounts, namespaces, caps, masked paths, rlimit, cgroup, hostname, seccomp', () => {
  const s = generateSpec({ id: 'c1', namespace: 'ns1', image: {}, args: ['sh'] });
  assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/run']);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'network']);
  assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
  assert.ok(s.linux.readonlyPaths?.includes('/proc/sys'));
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
  assert.equal(s.linux.cgroupsPath, '/ns1/c1');
  assert.equal(s.hostname, 'c1');
  assert.deepEqual(s.process.env, [DEFAULT_PATH]);
  assert.equal(s.process.cwd, '/');
  assert.deepEqual(s.process.user, { uid: 0, gid: 0 });
  assert.equal(s.root.path, 'rootfs');
  assert.deepEqual(s.linux.resources.devices, [{ allow: false, access: 'rwm' }]);
  assert.equal(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ALLOW');
  assert.ok(s.linux.seccomp?.syscalls[0]?.names.includes('mount'));
});

test('image config gives args, env, cwd and user; args override replaces entrypoint and cmd', () => {
  const s = generateSpec({ id: 'c', image });
  assert.deepEqual(s.process.args, ['/entry', 'arg']);
  assert.deepEqual(s.process.env, ['PATH=/bin', 'A=1']);
  assert.equal(s.process.cwd, '/work');
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000 });
  assert.deepEqual(generateSpec({ id: 'c', image, args: ['echo', 'hi'] }).process.args, ['echo', 'hi']);
  assert.throws(() => generateSpec({ id: 'c', image: {} }), isInvalidArgument);
});

test('env, cwd, user and tty options', () => {
  const s = generateSpec({ id: 'c', image, env: ['A=2', 'B=3'], cwd: '/tmp', user: '5', tty: true });
  assert.deepEqual(s.process.env, ['PATH=/bin', 'A=2', 'TERM=xterm', 'B=3']);
  assert.equal(s.process.cwd, '/tmp');
  assert.deepEqual(s.process.user, { uid: 5, gid: 5 });
  assert.equal(s.process.terminal, true);
  assert.throws(() => generateSpec({ id: 'c', image, user: 'nobody' }), isInvalidArgument);
});

test('mounts are added and replace a default at the same destination', () => {
  const s = generateSpec({ id: 'c', args: ['sh'], mounts: [{ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro'] }, { destination: '/run', type: 'tmpfs', source: 'tmpfs' }] });
  assert.deepEqual(s.mounts.at(-2), { destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro'] });
  assert.equal(s.mounts.filter((m) => m.destination === '/run').length, 1);
});

test('netHost drops the network namespace and binds hosts and resolv.conf', () => {
  const s = generateSpec({ id: 'c', args: ['sh'], netHost: true });
  assert.ok(!s.linux.namespaces.some((n) => n.type === 'network'));
  assert.ok(s.mounts.some((m) => m.destination === '/etc/resolv.conf' && m.type === 'bind'));
  assert.notEqual(s.hostname, 'c');
});

test('privileged: all caps, no masks, no seccomp, devices allowed, sysfs rw', () => {
  const s = generateSpec({ id: 'c', args: ['sh'], privileged: true });
  assert.ok(s.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.equal(s.linux.maskedPaths, undefined);
  assert.equal(s.linux.readonlyPaths, undefined);
  assert.equal(s.linux.seccomp, undefined);
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(!s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
});

test('capAdd adds capabilities and lifts their syscalls from the seccomp denylist', () => {
  const s = generateSpec({ id: 'c', args: ['sh'], capAdd: ['sys_admin', 'CAP_SYS_PTRACE'] });
  assert.ok(s.process.capabilities.effective.includes('CAP_SYS_ADMIN'));
  assert.ok(s.process.capabilities.effective.includes('CAP_SYS_PTRACE'));
  const denied = s.linux.seccomp?.syscalls[0]?.names ?? [];
  assert.ok(!denied.includes('mount') && !denied.includes('ptrace'));
  assert.ok(denied.includes('reboot'));
  assert.equal(generateSpec({ id: 'c', args: ['sh'], seccomp: false }).linux.seccomp, undefined);
});

test('memory limit, cpus and readonly rootfs', () => {
  const s = generateSpec({ id: 'c', args: ['sh'], memoryLimit: 64 * 1024 * 1024, cpus: 1.5, readonlyRootfs: true });
  assert.deepEqual(s.linux.resources.memory, { limit: 67108864 });
  assert.deepEqual(s.linux.resources.cpu, { quota: 150000, period: 100000 });
  assert.equal(s.root.readonly, true);
  assert.throws(() => generateSpec({ id: 'c', args: ['sh'], cpus: 0 }), isInvalidArgument);
});

test('specAny wraps the spec as JSON under containerd\'s type URL', () => {
  const a = specAny({ ociVersion: 'x' });
  assert.equal(a.typeUrl, SPEC_TYPE_URL);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(a.value)), { ociVersion: 'x' });
});
