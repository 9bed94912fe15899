import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { parseShimArgs } from './args.js';
import { shimServerKey, shimServerPaths } from './address.js';

describe('parseShimArgs', () => {
  it('reads the flags containerd passes to start', () => {
    const a = parseShimArgs(['-namespace', 'k8s.io', '-address', '/run/containerd/containerd.sock',
      '-publish-binary', '/usr/bin/containerd', '-id', 'abc', '-debug', 'start']);
    assert.deepEqual(a, {
      namespace: 'k8s.io', address: '/run/containerd/containerd.sock', publishBinary: '/usr/bin/containerd',
      id: 'abc', bundle: '', debug: true, socket: '', action: 'start',
    });
  });

  it('accepts --name=value and -bundle for delete', () => {
    const a = parseShimArgs(['--namespace=default', '-id=x', '-bundle', '/b', 'delete']);
    assert.equal(a.namespace, 'default');
    assert.equal(a.id, 'x');
    assert.equal(a.bundle, '/b');
    assert.equal(a.action, 'delete');
    assert.equal(a.debug, false);
  });

  it('reads the descriptor the server reports readiness on', () => {
    const a = parseShimArgs(['-namespace', 'n', '-address', '/a.sock', '-socket', '/s.sock', '-ready-fd', '3']);
    assert.equal(a.readyFd, 3);
    assert.equal(a.action, '');
    assert.equal(parseShimArgs(['-namespace', 'n']).readyFd, undefined);
    assert.throws(() => parseShimArgs(['-ready-fd', 'three']), (err: Error) => isInvalidArgument(err) && /not a file descriptor/.test(err.message));
  });

  it('rejects unknown flags and missing values', () => {
    assert.throws(() => parseShimArgs(['-bogus', 'x']), isInvalidArgument);
    assert.throws(() => parseShimArgs(['-namespace']), isInvalidArgument);
  });
});

describe('shimServerPaths', () => {
  it('names a short per-address, per-namespace socket', () => {
    const p = shimServerPaths('/run/containerd/containerd.sock', 'default', '/run/ctrd-shim');
    assert.match(p.socket, /^\/run\/ctrd-shim\/[0-9a-f]{16}\.sock$/);
    assert.equal(p.address, `unix://${p.socket}`);
    assert.ok(Buffer.byteLength(p.socket) < 108);
    assert.notEqual(shimServerKey('/a', 'default'), shimServerKey('/a', 'other'));
    assert.notEqual(shimServerKey('/a', 'ns'), shimServerKey('/b', 'ns'));
    assert.equal(shimServerKey('/a', 'ns'), '56acff3643011050', 'first 16 hex of sha256("/a/ns")');
  });
});
