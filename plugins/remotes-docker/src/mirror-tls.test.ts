import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isNotFound, isUnavailable } from '@ctrd/errdefs';
import { configureHosts, createDockerResolver, hostDirectoryNames } from './index.js';
import { freePort, blob, hasCommand } from './fixtures.js';
import { startFakeServer, type FakeServer } from './fake-server.js';
import { EXTRA_CA_CERTS_ENV } from './trust.js';

const manifest = blob('application/vnd.oci.image.manifest.v1+json', Buffer.from('{"schemaVersion":2,"config":{},"layers":[],"annotations":{"a":"b"}}'));

/** registryFor serves `tags` of repository `r` and answers 404 otherwise. */
function registryFor(tags: string[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const tag = /^\/v2\/r\/manifests\/([^/]+)$/.exec(path)?.[1];
    if (!tag || !tags.includes(tag)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', manifest.desc.mediaType);
    res.setHeader('docker-content-digest', manifest.desc.digest);
    res.setHeader('content-length', manifest.data.length);
    res.end(req.method === 'HEAD' ? undefined : manifest.data);
  };
}

function writeHosts(root: string, registry: string, toml: string, files: Record<string, string> = {}): void {
  const dir = join(root, hostDirectoryNames(registry)[0]!);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hosts.toml'), toml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

test('hosts.toml mirrors are tried before the upstream; push goes upstream', async (t) => {
  const upstream = await startFakeServer(registryFor(['both', 'upstream-only']));
  const mirror = await startFakeServer(registryFor(['both']));
  const deadPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'ctrd-mirror-'));
  writeHosts(
    root,
    upstream.host,
    `[host."http://127.0.0.1:${deadPort}"]
capabilities = ["pull", "resolve"]
[host."http://${mirror.host}"]
capabilities = ["pull", "resolve"]
[host."http://${mirror.host}".header]
x-from-hosts-toml = "mirror"
`,
  );
  const resolver = createDockerResolver({ hostsDir: root, retry: { attempts: 0 } });
  t.after(async () => {
    await resolver.close();
    await upstream.close();
    await mirror.close();
    rmSync(root, { recursive: true, force: true });
  });

  assert.equal((await resolver.resolve(`${upstream.host}/r:both`)).descriptor.digest, manifest.desc.digest);
  assert.equal(upstream.seen.length, 0, 'the mirror answered');
  assert.equal(mirror.seen[0]!.url, `/v2/r/manifests/both?ns=${encodeURIComponent(upstream.host)}`);
  assert.equal(mirror.seen[0]!.headers['x-from-hosts-toml'], 'mirror');

  assert.equal((await resolver.resolve(`${upstream.host}/r:upstream-only`)).descriptor.digest, manifest.desc.digest);
  assert.equal(upstream.seen.length, 1);
  assert.equal(upstream.seen[0]!.url, '/v2/r/manifests/upstream-only', 'no ns query to the upstream');
  assert.equal(upstream.seen[0]!.headers['x-from-hosts-toml'], undefined);

  await assert.rejects(resolver.resolve(`${upstream.host}/r:nowhere`), (e: Error) => isNotFound(e));

  const pusher = await resolver.pusher(`${upstream.host}/r:new`);
  const before = mirror.seen.length;
  assert.equal(await pusher.exists(manifest.desc), false);
  assert.equal(mirror.seen.length, before, 'mirrors without push are not used for push');
  assert.equal(upstream.seen.at(-1)!.method, 'HEAD');
});

/**
 * tlsRegistry serves `registryFor(['v1'])` over TLS with a certificate for 127.0.0.1 signed by a
 * new CA, whose PEM file is `caFile`; undefined (skipped) without openssl.
 */
async function tlsRegistry(t: TestContext): Promise<{ server: FakeServer; dir: string; caFile: string } | undefined> {
  if (!hasCommand('openssl')) {
    t.skip('openssl is not installed');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ctrd test CA');
  ossl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ossl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '1', '-extfile', 'ext.cnf');
  const server = await startFakeServer(registryFor(['v1']), { cert: readFileSync(join(dir, 'srv.pem'), 'utf8'), key: readFileSync(join(dir, 'srv.key'), 'utf8') });
  t.after(() => server.close());
  return { server, dir, caFile: join(dir, 'ca.pem') };
}

test('TLS: ca from hosts.toml, skip_verify, and an untrusted server', async (t) => {
  const reg = await tlsRegistry(t);
  if (!reg) return;
  const { server, dir } = reg;
  const ref = `${server.host}/r:v1`;
  const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');

  const withCa = join(dir, 'with-ca');
  writeHosts(withCa, server.host, `server = "https://${server.host}"\nca = "ca.pem"\n`, { 'ca.pem': ca });
  const r1 = createDockerResolver({ hostsDir: withCa });
  assert.equal((await r1.resolve(ref)).descriptor.digest, manifest.desc.digest);
  await r1.close();

  const untrusted = join(dir, 'untrusted');
  writeHosts(untrusted, server.host, `server = "https://${server.host}"\n`);
  const r2 = createDockerResolver({ hostsDir: untrusted, retry: { attempts: 0 } });
  await assert.rejects(r2.resolve(ref), (e: Error) => isUnavailable(e) && /certificate/i.test(e.message));
  await r2.close();

  const skip = join(dir, 'skip');
  writeHosts(skip, server.host, `server = "https://${server.host}"\nskip_verify = true\n`);
  const r3 = createDockerResolver({ hostsDir: skip });
  assert.equal((await r3.resolve(ref)).descriptor.digest, manifest.desc.digest);
  await r3.close();

  const r4 = createDockerResolver({ hosts: configureHosts({ plainHttp: false }) });
  assert.ok((await r4.fetcher(ref)) !== undefined);
  await r4.close();
});

test('TLS: the extra certificates a launcher moved aside are trusted, with and without a hosts.toml ca', async (t) => {
  const reg = await tlsRegistry(t);
  if (!reg) return;
  const { server, dir, caFile } = reg;
  const ref = `${server.host}/r:v1`;
  const hosts = join(dir, 'plain');
  writeHosts(hosts, server.host, `server = "https://${server.host}"\n`);
  const before = process.env[EXTRA_CA_CERTS_ENV];
  t.after(() => {
    if (before === undefined) delete process.env[EXTRA_CA_CERTS_ENV];
    else process.env[EXTRA_CA_CERTS_ENV] = before;
  });

  // Read at the first TLS connection, not when the resolver is made.
  const r1 = createDockerResolver({ hostsDir: hosts, retry: { attempts: 0 } });
  process.env[EXTRA_CA_CERTS_ENV] = caFile;
  assert.equal((await r1.resolve(ref)).descriptor.digest, manifest.desc.digest);
  await r1.close();

  // A host's own ca replaces the default store; the extra certificates stay in it.
  const other = join(dir, 'other-ca');
  writeHosts(other, server.host, `server = "https://${server.host}"\nca = "other.pem"\n`, { 'other.pem': readFileSync(join(dir, 'srv.pem'), 'utf8') });
  const r2 = createDockerResolver({ hostsDir: other, retry: { attempts: 0 } });
  assert.equal((await r2.resolve(ref)).descriptor.digest, manifest.desc.digest);
  await r2.close();

  process.env[EXTRA_CA_CERTS_ENV] = '';
  const r3 = createDockerResolver({ hostsDir: hosts, retry: { attempts: 0 } });
  await assert.rejects(r3.resolve(ref), (e: Error) => isUnavailable(e) && /certificate/i.test(e.message));
  await r3.close();
});
