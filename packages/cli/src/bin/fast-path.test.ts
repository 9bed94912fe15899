import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastCommand } from './fast-path.js';

const env = {};

test('fastCommand recognises version with global options anywhere, as yargs would parse them', () => {
  assert.deepEqual(fastCommand(['--address', '/s', 'version', '-n', 'x', '--timeout', '2', '--format', 'json'], env), {
    name: 'version',
    argv: { address: '/s', namespace: 'x', format: 'json', timeout: 2 },
  });
  assert.deepEqual(fastCommand(['version'], { CTRD_ADDRESS: '/e', CONTAINERD_NAMESPACE: 'n' }), {
    name: 'version',
    argv: { address: '/e', namespace: 'n', format: 'table' },
  });
});

test('fastCommand recognises images ls and its aliases with filters and options', () => {
  assert.deepEqual(fastCommand(['i', 'list', '-q', 'name==a', '--snapshotter', 'native', '--platform', 'linux/amd64'], env), {
    name: 'images ls',
    argv: { address: '/run/ctrd/ctrd.sock', namespace: 'default', format: 'table', filters: ['name==a'], quiet: true, snapshotter: 'native', platform: 'linux/amd64' },
  });
  assert.equal(fastCommand(['images', 'ls'], { CONTAINERD_SNAPSHOTTER: 'btrfs' })?.argv.snapshotter, 'btrfs');
});

test('fastCommand recognises pull and fetch with their registry options, as yargs would give them', () => {
  assert.deepEqual(
    fastCommand(['-n', 'pull', 'pull', '--plain-http', '--platform', 'linux/amd64', '--platform=linux/arm64', '-u', 'me:pw', 'reg/x:1', '--label', 'a=b', '--max-concurrent-downloads', '5', '--hosts-dir', '/h'], env),
    {
      name: 'pull',
      argv: {
        address: '/run/ctrd/ctrd.sock', namespace: 'pull', format: 'table', ref: 'reg/x:1', 'plain-http': true, 'hosts-dir': '/h', user: 'me:pw',
        platform: ['linux/amd64', 'linux/arm64'], 'all-platforms': false, 'max-concurrent-downloads': 5, snapshotter: '', label: ['a=b'], unpack: true,
      },
    },
  );
  assert.deepEqual(fastCommand(['fetch', 'x', '--all-platforms', '--format', 'json'], { CONTAINERD_SNAPSHOTTER: 'native' }), {
    name: 'fetch',
    argv: {
      address: '/run/ctrd/ctrd.sock', namespace: 'default', format: 'json', ref: 'x', 'plain-http': false,
      platform: [], 'all-platforms': true, 'max-concurrent-downloads': 3, snapshotter: 'native', label: [], unpack: false,
    },
  });
});

test('fastCommand leaves everything else to yargs', () => {
  for (const args of [
    [],
    ['--help'],
    ['version', '--help'],
    ['version', '-q'],
    ['version', 'extra'],
    ['images', 'rm', 'x'],
    ['images', 'ls', '--bogus'],
    ['version', '--format', 'yaml'],
    ['version', '--timeout', 'soon'],
    ['images', 'ls', '--no-quiet'],
    ['plugins', 'ls'],
    ['pull'],
    ['pull', 'a', 'b'],
    ['pull', 'x', '--no-unpack'],
    ['pull', 'x', '--unpack'],
    ['pull', 'x', '--max-concurrent-downloads', 'many'],
    ['pull', 'x', '--plain-http=yes'],
    ['push', 'x'],
    ['--namespace', 'version', 'images', 'rm', 'x'],
    ['pull', '-u=me:pw', 'x'],
    ['-n=k8s.io', 'version'],
  ]) {
    assert.equal(fastCommand(args, env), undefined, args.join(' '));
  }
});
