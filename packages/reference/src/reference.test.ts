import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { familiarName, familiarString, parseDockerRef, parseNormalizedNamed, parseReference, isDigest, validateDigest } from './index.js';

const D = 'sha256:' + 'a'.repeat(64);

test('parseReference splits domain, path, tag and digest', () => {
  const cases: Array<[string, string, string, string | undefined, string | undefined]> = [
    // input, domain, path, tag, digest
    ['busybox', '', 'busybox', undefined, undefined],
    ['busybox:1.36', '', 'busybox', '1.36', undefined],
    ['docker.io/library/busybox:latest', 'docker.io', 'library/busybox', 'latest', undefined],
    ['foo/bar', 'foo', 'bar', undefined, undefined],
    ['localhost/foo', 'localhost', 'foo', undefined, undefined],
    ['localhost:5000/foo/bar:v1', 'localhost:5000', 'foo/bar', 'v1', undefined],
    ['127.0.0.1:5000/x', '127.0.0.1:5000', 'x', undefined, undefined],
    [`127.0.0.1:5000/x@${D}`, '127.0.0.1:5000', 'x', undefined, D],
    [`reg.example.com/a/b/c:t@${D}`, 'reg.example.com', 'a/b/c', 't', D],
    ['Example.COM/lower', 'Example.COM', 'lower', undefined, undefined],
    ['a.b/c__d-e.f---g', 'a.b', 'c__d-e.f---g', undefined, undefined],
    ['x:_tag', '', 'x', '_tag', undefined],
  ];
  for (const [s, domain, path, tag, digest] of cases) {
    const r = parseReference(s);
    assert.deepEqual([r.domain, r.path, r.tag, r.digest], [domain, path, tag, digest], s);
    assert.equal(r.toString(), s, 'canonical round trip');
    assert.equal(parseReference(r.toString()).toString(), s);
  }
});

test('parseReference rejects what the grammar rejects, with InvalidArgument', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /at least one component/],
    ['Busybox', /must be lowercase/],
    ['docker.io/Library/busybox', /must be lowercase/],
    ['busybox:', /invalid reference format/],
    ['busybox:-tag', /invalid reference format/],
    ['busybox:' + 't'.repeat(129), /invalid reference format/],
    ['foo//bar', /invalid reference format/],
    ['foo/bar/', /invalid reference format/],
    ['-foo', /invalid reference format/],
    ['foo_', /invalid reference format/],
    ['foo...bar', /invalid reference format/],
    ['https://docker.io/busybox', /invalid reference format/],
    ['busybox@sha256:abc', /invalid reference format/],
    [`busybox@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    [`busybox@sha256:${'a'.repeat(63)}`, /invalid checksum digest length/],
    [`busybox@sha256:${'A'.repeat(64)}`, /invalid checksum digest length/],
    ['a/' + 'b'.repeat(254), /not be more than 255/],
  ];
  for (const [s, re] of cases) {
    assert.throws(() => parseReference(s), (err: Error) => isInvalidArgument(err) && re.test(err.message), s);
  }
});

test('parseNormalizedNamed applies docker.io/library defaults', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox'],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    ['index.docker.io/busybox', 'docker.io/library/busybox'],
    ['docker.io/busybox', 'docker.io/library/busybox'],
    ['localhost/foo', 'localhost/foo'],
    ['localhost:5000/foo:t', 'localhost:5000/foo:t'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x'],
    ['quay.io/coreos/etcd', 'quay.io/coreos/etcd'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    ['foo/bar/baz', 'docker.io/foo/bar/baz'],
  ];
  for (const [s, want] of cases) assert.equal(parseNormalizedNamed(s).toString(), want, s);
  assert.throws(() => parseNormalizedNamed('a'.repeat(64)), /64-byte hexadecimal/);
  assert.throws(() => parseNormalizedNamed('Foo/bar'), /must be lowercase/);
  assert.throws(() => parseNormalizedNamed('UPPER'), (e: Error) => isInvalidArgument(e));
});

test('parseDockerRef adds latest and prefers the digest', () => {
  assert.equal(parseDockerRef('busybox').toString(), 'docker.io/library/busybox:latest');
  assert.equal(parseDockerRef('busybox:1').toString(), 'docker.io/library/busybox:1');
  assert.equal(parseDockerRef(`busybox:1@${D}`).toString(), `docker.io/library/busybox@${D}`);
  assert.equal(parseDockerRef('127.0.0.1:5000/x').toString(), '127.0.0.1:5000/x:latest');
});

test('familiar forms drop docker.io and library/', () => {
  assert.equal(familiarName(parseNormalizedNamed('busybox')), 'busybox');
  assert.equal(familiarString(parseDockerRef('busybox')), 'busybox:latest');
  assert.equal(familiarName(parseNormalizedNamed('dmcgowan/myapp')), 'dmcgowan/myapp');
  assert.equal(familiarName(parseNormalizedNamed('docker.io/library/a/b')), 'library/a/b');
  assert.equal(familiarString(parseReference('quay.io/x/y:1')), 'quay.io/x/y:1');
});

test('reference helpers', () => {
  const r = parseReference(`reg.io/a:t@${D}`);
  assert.equal(r.name, 'reg.io/a');
  assert.equal(r.object, `t@${D}`);
  assert.equal(r.withoutTag().object, `@${D}`);
  assert.equal(r.nameOnly().object, '');
  assert.equal(r.nameOnly().withTag('v2').toString(), 'reg.io/a:v2');
  assert.throws(() => r.withTag('bad tag'), (e: Error) => isInvalidArgument(e));
  assert.throws(() => r.withDigest('sha256:zz'), (e: Error) => isInvalidArgument(e));
  assert.ok(Object.isFrozen(r));
  assert.ok(isDigest(D));
  assert.ok(isDigest('sha512:' + 'f'.repeat(128)));
  assert.equal(isDigest('sha256:'), false);
  assert.equal(validateDigest(D), D);
});

test('a long name ending in a bad character is refused in linear time', () => {
  for (const s of ['a'.repeat(40) + '!', 'a'.repeat(5000) + '!', `docker.io/${'ab-'.repeat(2000)}!`, `x/${'a.b_c__d-'.repeat(500)}A`]) {
    const started = performance.now();
    assert.throws(() => parseNormalizedNamed(s), (e: unknown) => isInvalidArgument(e));
    assert.ok(performance.now() - started < 500, `${s.slice(0, 20)}…: ${performance.now() - started} ms`);
  }
  assert.equal(parseNormalizedNamed('a--b__c.d_e').toString(), 'docker.io/library/a--b__c.d_e');
});
