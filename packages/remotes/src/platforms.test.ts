import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import {
  allPlatforms, formatPlatform, hostPlatform, matchesPlatform, normalizePlatform, onlyMatcher, orderedMatcher,
  parsePlatform, platformVector, selectManifests, strictMatcher, type Descriptor, type Platform,
} from './index.js';

const p = (s: string): Platform => {
  const [os, architecture, variant] = s.split('/') as [string, string, string | undefined];
  return variant ? { os, architecture, variant } : { os, architecture };
};

test('normalizePlatform maps architecture aliases and arm variants', () => {
  const cases: Array<[Platform, string]> = [
    [{ os: 'Linux', architecture: 'x86_64' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'x86-64', variant: 'v1' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'amd64', variant: 'v3' }, 'linux/amd64/v3'],
    [{ os: 'linux', architecture: 'aarch64' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: '8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'armhf' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'armel' }, 'linux/arm/v6'],
    [{ os: 'linux', architecture: 'arm' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'arm', variant: '6' }, 'linux/arm/v6'],
    [{ os: 'linux', architecture: 'i386' }, 'linux/386'],
    [{ os: 'macOS', architecture: 'arm64' }, 'darwin/arm64'],
    [{ os: 'linux', architecture: 's390x' }, 'linux/s390x'],
  ];
  for (const [input, want] of cases) assert.equal(formatPlatform(normalizePlatform(input)), want, JSON.stringify(input));
});

test('parsePlatform fills from the host and rejects bad specifiers', () => {
  const host = hostPlatform();
  assert.equal(host.os, 'linux');
  assert.ok(host.architecture && !['x64', 'ia32'].includes(host.architecture));
  assert.equal(formatPlatform(parsePlatform('linux/arm/v7')), 'linux/arm/v7');
  assert.equal(formatPlatform(parsePlatform('linux/aarch64')), 'linux/arm64');
  assert.deepEqual(parsePlatform('linux'), host);
  assert.equal(formatPlatform(parsePlatform('arm64')), `${host.os}/arm64`);
  for (const bad of ['', 'linux//', 'a/b/c/d']) {
    assert.throws(() => parsePlatform(bad), (e: Error) => isInvalidArgument(e), bad);
  }
});

test('platformVector lists compatible platforms best first', () => {
  assert.deepEqual(platformVector(p('linux/amd64')).map(formatPlatform), ['linux/amd64', 'linux/386']);
  assert.deepEqual(platformVector(p('linux/amd64/v3')).map(formatPlatform), ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']);
  assert.deepEqual(platformVector(p('linux/arm/v7')).map(formatPlatform), ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
  assert.deepEqual(platformVector(p('linux/arm64')).map(formatPlatform), ['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
});

test('matchers accept and order as containerd does', () => {
  const m = onlyMatcher(p('linux/amd64'));
  assert.ok(m.match(p('linux/x86_64')));
  assert.ok(m.match(p('linux/386')));
  assert.equal(m.match(p('linux/arm64')), false);
  assert.equal(m.match(p('windows/amd64')), false);
  assert.ok(m.less(p('linux/amd64'), p('linux/386')));
  assert.equal(m.less(p('linux/386'), p('linux/amd64')), false);
  assert.equal(strictMatcher(p('linux/amd64')).match(p('linux/386')), false);
  assert.ok(matchesPlatform(p('linux/aarch64'), p('linux/arm64/v8')));
  assert.equal(matchesPlatform(p('linux/arm/v6'), p('linux/arm')), false);
  const o = orderedMatcher(p('linux/arm64'), p('linux/amd64'));
  assert.ok(o.less(p('linux/arm64'), p('linux/amd64')));
  assert.ok(allPlatforms.match(p('plan9/mips')));
});

test('selectManifests filters an index and puts the best first', () => {
  const d = (plat: string | undefined, n: number): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: n,
    ...(plat ? { platform: p(plat) } : {}),
  });
  const manifests = [d('linux/386', 1), d('linux/arm64', 2), d('linux/amd64', 3), d(undefined, 4), d('linux/amd64', 5)];
  assert.deepEqual(selectManifests(manifests, onlyMatcher(p('linux/amd64'))).map((x) => x.size), [3, 5, 1]);
  assert.deepEqual(selectManifests(manifests, onlyMatcher(p('linux/arm64'))).map((x) => x.size), [2]);
  assert.deepEqual(selectManifests(manifests, onlyMatcher(p('linux/s390x'))), []);
  assert.equal(selectManifests(manifests, allPlatforms).length, 5);
});
