import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInvalidArgument } from '@ctrd/errdefs';
import { configureHosts, hostDirectoryNames, parseHostsToml, parseWwwAuthenticate } from './index.js';

test('parseHostsToml: mirrors in file order, then the server', () => {
  const hosts = parseHostsToml(
    `server = "https://registry.example.com"

[host."https://mirror-b.example.com"]
  capabilities = ["pull", "resolve"]
  ca = "certs/ca.pem"
  skip_verify = false
  [host."https://mirror-b.example.com".header]
    x-custom = "1"
    x-multi = ["a", "b"]

[host."http://mirror-a:5000/prefix"]
  capabilities = ["pull"]
  client = [["/abs/client.cert", "client.key"]]

[host."mirror-c"]
  override_path = true
`,
    '/etc/certs.d/registry.example.com',
  );
  assert.deepEqual(
    hosts.map((h) => [h.scheme, h.host, h.path, h.capabilities.join(',')]),
    [
      ['https', 'mirror-b.example.com', '/v2', 'pull,resolve'],
      ['http', 'mirror-a:5000', '/prefix/v2', 'pull'],
      ['https', 'mirror-c', '/', 'pull,resolve,push'],
      ['https', 'registry.example.com', '/v2', 'pull,resolve,push'],
    ],
  );
  assert.deepEqual(hosts[0]!.ca, ['/etc/certs.d/registry.example.com/certs/ca.pem']);
  assert.equal(hosts[0]!.skipVerify, false);
  assert.deepEqual(hosts[0]!.header, { 'x-custom': ['1'], 'x-multi': ['a', 'b'] });
  assert.deepEqual(hosts[1]!.client, [['/abs/client.cert', '/etc/certs.d/registry.example.com/client.key']]);
});

test('parseHostsToml rejects bad values', () => {
  for (const bad of ['capabilities = ["fly"]', 'ca = 5', 'skip_verify = "yes"', 'server = [', 'server = "ftp://x"']) {
    assert.throws(() => parseHostsToml(bad, '/'), (e: Error) => isInvalidArgument(e), bad);
  }
});

test('configureHosts: defaults and hosts dir lookup', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ctrd-hosts-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual(hostDirectoryNames('reg:5000'), ['reg_5000_', 'reg:5000', '_default']);
  mkdirSync(join(root, 'reg.example.com_5000_'));
  writeFileSync(join(root, 'reg.example.com_5000_', 'ca.pem'), 'PEM-CA');
  writeFileSync(
    join(root, 'reg.example.com_5000_', 'hosts.toml'),
    'server = "https://reg.example.com:5000"\nca = "ca.pem"\n[host."http://127.0.0.1:9999"]\ncapabilities = ["pull","resolve"]\n[host."http://127.0.0.1:9999".header]\nx-mirror = "yes"\n',
  );
  mkdirSync(join(root, 'certsonly.example.com'));
  writeFileSync(join(root, 'certsonly.example.com', 'my.crt'), 'PEM-2');

  const hosts = configureHosts({ hostsDir: root });
  const reg = await hosts('reg.example.com:5000');
  assert.deepEqual(reg.map((h) => `${h.scheme}://${h.host}${h.path}`), ['http://127.0.0.1:9999/v2', 'https://reg.example.com:5000/v2']);
  assert.deepEqual(reg[0]!.header, { 'x-mirror': ['yes'] });
  assert.deepEqual(reg[1]!.tls?.ca, ['PEM-CA']);
  const certsOnly = await hosts('certsonly.example.com');
  assert.deepEqual(certsOnly.map((h) => [h.scheme, h.host, h.tls?.ca]), [['https', 'certsonly.example.com', ['PEM-2']]]);
  assert.deepEqual((await hosts('docker.io')).map((h) => `${h.scheme}://${h.host}`), ['https://registry-1.docker.io']);
  assert.deepEqual((await hosts('localhost:5000')).map((h) => `${h.scheme}://${h.host}`), ['http://localhost:5000']);
  assert.deepEqual((await hosts('127.0.0.1:5000')).map((h) => h.scheme), ['http']);
  assert.deepEqual((await hosts('quay.io')).map((h) => h.scheme), ['https']);
  const plain = configureHosts({ plainHttp: (r) => r === 'insecure.example.com' });
  assert.deepEqual((await plain('insecure.example.com')).map((h) => h.scheme), ['http']);
  assert.deepEqual((await plain('secure.example.com')).map((h) => h.scheme), ['https']);
  mkdirSync(join(root, '_default'));
  writeFileSync(join(root, '_default', 'hosts.toml'), '[host."https://all-mirror"]\ncapabilities=["pull"]\n');
  assert.deepEqual((await hosts('quay.io')).map((h) => h.host), ['all-mirror', 'quay.io']);
});

test('parseWwwAuthenticate', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(['Basic realm="a, b"', 'Bearer realm=x, error="invalid_token"']), [
    { scheme: 'basic', params: { realm: 'a, b' } },
    { scheme: 'bearer', params: { realm: 'x', error: 'invalid_token' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="q\\"uote", Basic realm=y'), [
    { scheme: 'bearer', params: { realm: 'q"uote' } },
    { scheme: 'basic', params: { realm: 'y' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
});
