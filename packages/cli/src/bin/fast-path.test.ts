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
  ]) {
    assert.equal(fastCommand(args, env), undefined, args.join(' '));
  }
});
