import { test } from 'node:test';
import assert from 'node:assert/strict';
import { is } from '@ctrd/errdefs';
import { createDockerResolver } from './index.js';
import { hasCommand, makeTestImage, readAll } from './fixtures.js';
import { startRegistry } from './test-registry.js';
import { startTokenServer } from './token-server.js';

const missing = ['docker-registry', 'openssl'].find((c) => !hasCommand(c));

test('push and pull through a real registry in token-auth mode', { skip: missing ? `${missing} is not installed` : undefined }, async (t) => {
  const tokens = await startTokenServer({ username: 'alice', password: 's3cret' });
  t.after(() => tokens.stop());
  const reg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile } });
  t.after(() => reg.stop());

  const plain = await fetch(`http://${reg.addr}/v2/`);
  assert.equal(plain.status, 401);
  assert.match(plain.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="ctrd-test-registry"/);

  const img = makeTestImage('behind token auth\n', 50_000);
  const ref = `${reg.addr}/ctrd/private:v1`;
  const anonymous = createDockerResolver();
  const wrong = createDockerResolver({ credentials: () => ({ username: 'alice', password: 'nope' }) });
  const alice = createDockerResolver({ credentials: () => ({ username: 'alice', password: 's3cret' }) });
  t.after(async () => {
    await anonymous.close();
    await wrong.close();
    await alice.close();
  });

  const denied = (e: Error) => is(e, 'PERMISSION_DENIED');
  await assert.rejects(async () => (await anonymous.pusher(ref)).push(img.layer.desc, img.layer.data), denied);
  await assert.rejects(async () => (await wrong.pusher(ref)).push(img.layer.desc, img.layer.data), denied);

  const pusher = await alice.pusher(ref);
  await pusher.push(img.layer.desc, img.layer.data);
  await pusher.push(img.config.desc, img.config.data);
  await pusher.push(img.manifest.desc, img.manifest.data);

  await assert.rejects(anonymous.resolve(ref), denied);
  await assert.rejects(wrong.resolve(ref), denied);
  const resolved = await alice.resolve(ref);
  assert.equal(resolved.descriptor.digest, img.manifest.desc.digest);
  assert.deepEqual(await readAll(await resolved.fetcher.fetch(img.layer.desc)), img.layer.data);
  assert.ok(tokens.requests.some((r) => r.user === 'alice' && /repository:ctrd\/private:.*push/.test(r.scope)), JSON.stringify(tokens.requests));
});
