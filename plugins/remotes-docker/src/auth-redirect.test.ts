import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { is, isAlreadyExists, isNotFound, isUnavailable } from '@ctrd/errdefs';

const isPermissionDenied = (e: unknown): boolean => is(e, 'PERMISSION_DENIED');
import { createDockerResolver } from './index.js';
import { startFakeServer, type FakeServer } from './fake-server.js';
import { blob, readAll } from './fixtures.js';

const manifest = blob('application/vnd.oci.image.manifest.v1+json', Buffer.from('{"schemaVersion":2,"config":{},"layers":[]}'));
const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', Buffer.from(Uint8Array.from({ length: 300_000 }, (_, i) => i % 251)));

function sendManifest(res: ServerResponse, method: string, withDigest = true): void {
  res.setHeader('content-type', manifest.desc.mediaType);
  if (withDigest) res.setHeader('docker-content-digest', manifest.desc.digest);
  res.setHeader('content-length', manifest.data.length);
  res.end(method === 'HEAD' ? undefined : manifest.data);
}

/** serveRange answers a blob GET, honouring `Range: bytes=N-`. */
function serveRange(res: ServerResponse, range: string | undefined, data: Buffer): void {
  const m = /^bytes=(\d+)-$/.exec(range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (m) {
    res.statusCode = 206;
    res.setHeader('content-range', `bytes ${start}-${data.length - 1}/${data.length}`);
  }
  res.setHeader('content-length', data.length - start);
  res.end(data.subarray(start));
}

test('bearer flow: anonymous token cached per scope, redirect to blob storage drops Authorization', async (t) => {
  let storage!: FakeServer;
  const reg = await startFakeServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: `tok-${url.searchParams.getAll('scope').join('+')}`, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-repository:lib/app:pull') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="${reg.origin}/token",service="fake-registry",scope="repository:lib/app:pull"`);
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (url.pathname === '/v2/lib/app/manifests/v1') return sendManifest(res, req.method!);
    if (url.pathname === `/v2/lib/app/blobs/${layer.desc.digest}`) {
      res.statusCode = 307;
      res.setHeader('location', `${storage.origin}/store/${layer.desc.digest}?sig=abc`);
      res.end();
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  storage = await startFakeServer((req, res) => serveRange(res, req.headers.range, layer.data));
  const resolver = createDockerResolver();
  t.after(async () => {
    await resolver.close();
    await reg.close();
    await storage.close();
  });

  const r = await resolver.resolve(`${reg.host}/lib/app:v1`);
  assert.deepEqual(r.descriptor, manifest.desc);
  assert.deepEqual(await readAll(await r.fetcher.fetch(layer.desc)), layer.data);
  assert.deepEqual(await readAll(await r.fetcher.fetch(layer.desc, { offset: 1000 })), layer.data.subarray(1000));

  const tokenRequests = reg.seen.filter((s) => s.url.startsWith('/token'));
  assert.equal(tokenRequests.length, 1, 'one token for one scope');
  assert.equal(tokenRequests[0]!.method, 'GET');
  assert.match(tokenRequests[0]!.url, /service=fake-registry/);
  assert.equal(tokenRequests[0]!.headers.authorization, undefined, 'anonymous token request');
  assert.equal(storage.seen.length, 2);
  for (const s of storage.seen) {
    assert.equal(s.headers.authorization, undefined, 'no credentials at the other origin');
    assert.match(s.url, /sig=abc/);
  }
  assert.equal(storage.seen[1]!.headers.range, 'bytes=1000-');
});

test('token with credentials: OAuth POST, falling back to GET with basic auth', async (t) => {
  let postAllowed = true;
  const reg = await startFakeServer((req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      if (req.method === 'POST' && postAllowed) {
        const form = new URLSearchParams(body.toString());
        assert.equal(form.get('grant_type'), 'password');
        assert.equal(form.get('client_id'), 'containerd-client');
        const ok = form.get('username') === 'alice' && form.get('password') === 's3cret';
        res.statusCode = ok ? 200 : 401;
        res.end(JSON.stringify(ok ? { access_token: 'oauth-token' } : {}));
        return;
      }
      if (req.method === 'POST') {
        res.statusCode = 404;
        res.end();
        return;
      }
      const ok = req.headers.authorization === `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
      res.statusCode = ok ? 200 : 401;
      res.end(JSON.stringify(ok ? { token: 'get-token' } : {}));
      return;
    }
    const good = ['Bearer oauth-token', 'Bearer get-token'];
    if (!good.includes(req.headers.authorization ?? '')) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="${reg.origin}/token",service="svc"`);
      res.end();
      return;
    }
    sendManifest(res, req.method!);
  });
  t.after(() => reg.close());
  const creds = { username: 'alice', password: 's3cret' };

  const a = createDockerResolver({ credentials: (h) => (h === reg.host ? creds : undefined) });
  assert.equal((await a.resolve(`${reg.host}/x:1`)).descriptor.digest, manifest.desc.digest);
  await a.close();
  assert.ok(reg.seen.some((s) => s.method === 'POST' && s.url === '/token'));

  postAllowed = false;
  const b = createDockerResolver({ credentials: () => creds });
  assert.equal((await b.resolve(`${reg.host}/x:1`)).descriptor.digest, manifest.desc.digest);
  await b.close();
  assert.ok(reg.seen.some((s) => s.method === 'GET' && s.url.startsWith('/token?') && s.url.includes('scope=repository%3Ax%3Apull')));

  const c = createDockerResolver({ credentials: () => ({ username: 'alice', password: 'wrong' }) });
  await assert.rejects(c.resolve(`${reg.host}/x:1`), (e: Error) => isPermissionDenied(e));
  await c.close();
});

test('basic auth challenge, and a refused one', async (t) => {
  const reg = await startFakeServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Basic realm="fake"');
      res.end();
      return;
    }
    sendManifest(res, req.method!, false);
  });
  t.after(() => reg.close());
  const ok = createDockerResolver({ credentials: () => ({ username: 'bob', password: 'pw' }) });
  const r = await ok.resolve(`${reg.host}/x:1`);
  assert.deepEqual(r.descriptor, manifest.desc, 'digest computed from a GET when HEAD gives none');
  assert.ok(reg.seen.some((s) => s.method === 'GET'));
  await ok.close();

  const anon = createDockerResolver();
  await assert.rejects(anon.resolve(`${reg.host}/x:1`), (e: Error) => isPermissionDenied(e));
  const bad = createDockerResolver({ credentials: () => ({ username: 'bob', password: 'no' }) });
  await assert.rejects(bad.resolve(`${reg.host}/x:1`), (e: Error) => isPermissionDenied(e));
  await anon.close();
  await bad.close();
});

test('retries 429 and 5xx with bounded backoff', async (t) => {
  const failures = new Map<string, number>([['/v2/x/manifests/busy', 2]]);
  const reg = await startFakeServer((req, res) => {
    const left = failures.get(req.url!) ?? 0;
    if (req.url === '/v2/x/manifests/down') {
      res.statusCode = 503;
      res.end();
      return;
    }
    if (left > 0) {
      failures.set(req.url!, left - 1);
      res.statusCode = 429;
      res.setHeader('retry-after', '0');
      res.end();
      return;
    }
    if (req.url !== '/v2/x/manifests/busy') {
      res.statusCode = 404;
      res.end();
      return;
    }
    sendManifest(res, req.method!);
  });
  const resolver = createDockerResolver({ retry: { attempts: 3, baseDelayMs: 10 } });
  t.after(async () => {
    await resolver.close();
    await reg.close();
  });
  assert.equal((await resolver.resolve(`${reg.host}/x:busy`)).descriptor.digest, manifest.desc.digest);
  assert.equal(reg.seen.filter((s) => s.url === '/v2/x/manifests/busy').length, 3);
  await assert.rejects(resolver.resolve(`${reg.host}/x:down`), (e: Error) => isUnavailable(e));
  assert.equal(reg.seen.filter((s) => s.url === '/v2/x/manifests/down').length, 4, 'one try and three retries');
  await assert.rejects(resolver.resolve(`${reg.host}/x@sha256:${'1'.repeat(64)}`), (e: Error) => isNotFound(e));
});

test('a download broken part-way is resumed with a Range request', async (t) => {
  let cut = 1;
  const reg = await startFakeServer((req, res) => {
    if (cut > 0 && !req.headers.range) {
      cut--;
      res.setHeader('content-length', layer.data.length);
      res.write(layer.data.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    serveRange(res, req.headers.range, layer.data);
  });
  const resolver = createDockerResolver();
  t.after(async () => {
    await resolver.close();
    await reg.close();
  });
  const f = await resolver.fetcher(`${reg.host}/x:1`);
  assert.deepEqual(await readAll(await f.fetch(layer.desc)), layer.data);
  assert.equal(reg.seen.length, 2);
  assert.equal(reg.seen[1]!.headers.range, 'bytes=100000-');
});

test('push with a push-scoped token; an upload Location on another origin gets no credentials', async (t) => {
  let uploads!: FakeServer;
  const stored = new Map<string, Buffer>();
  const reg = await startFakeServer((req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      res.end(JSON.stringify({ token: `tok-${url.searchParams.getAll('scope').join('+')}` }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-repository:x/y:pull,push') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="${reg.origin}/token",service="svc"`);
      res.end();
      return;
    }
    const blobPath = /^\/v2\/x\/y\/blobs\/(sha256:[a-f0-9]+)$/.exec(url.pathname);
    if (req.method === 'HEAD' && blobPath) {
      res.statusCode = stored.has(blobPath[1]!) ? 200 : 404;
      res.end();
      return;
    }
    if (req.method === 'HEAD') {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v2/x/y/blobs/uploads/') {
      res.statusCode = 202;
      res.setHeader('location', `${uploads.origin}/upload/1?state=abc`);
      res.end();
      return;
    }
    if (req.method === 'PUT' && url.pathname === '/v2/x/y/manifests/v1') {
      stored.set('manifest', body);
      res.statusCode = 201;
      res.end();
      return;
    }
    res.statusCode = 400;
    res.end();
  });
  uploads = await startFakeServer((req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    stored.set(url.searchParams.get('digest')!, body);
    res.statusCode = req.method === 'PUT' && url.searchParams.get('state') === 'abc' ? 201 : 400;
    res.end();
  });
  const resolver = createDockerResolver();
  t.after(async () => {
    await resolver.close();
    await reg.close();
    await uploads.close();
  });
  const pusher = await resolver.pusher(`${reg.host}/x/y:v1`);
  await pusher.push(layer.desc, (async function* () {
    yield layer.data;
  })());
  assert.deepEqual(stored.get(layer.desc.digest), layer.data);
  assert.equal(uploads.seen[0]!.headers.authorization, undefined);
  assert.equal(uploads.seen[0]!.headers['content-length'], String(layer.data.length));
  await assert.rejects(pusher.push(layer.desc, layer.data), (e: Error) => isAlreadyExists(e));
  await pusher.push(manifest.desc, manifest.data);
  assert.deepEqual(stored.get('manifest'), manifest.data);
  assert.equal(reg.seen.find((s) => s.url === '/v2/x/y/manifests/v1' && s.method === 'PUT')!.headers['content-type'], manifest.desc.mediaType);
});
