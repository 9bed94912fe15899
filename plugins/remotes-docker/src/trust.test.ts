import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTRA_CA_CERTS_ENV, extraCaCerts, trustFor } from './trust.js';

test('extraCaCerts reads the deferred file, and NODE_EXTRA_CA_CERTS only where an explicit ca replaces the store', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-trust-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const deferred = join(dir, 'deferred.pem');
  const loaded = join(dir, 'loaded.pem');
  writeFileSync(deferred, 'deferred');
  writeFileSync(loaded, 'loaded');

  assert.equal(extraCaCerts({ [EXTRA_CA_CERTS_ENV]: deferred }, false), 'deferred');
  assert.equal(extraCaCerts({ [EXTRA_CA_CERTS_ENV]: deferred, NODE_EXTRA_CA_CERTS: loaded }, true), 'deferred');
  // Started without a launcher, node has NODE_EXTRA_CA_CERTS in its default store already.
  assert.equal(extraCaCerts({ NODE_EXTRA_CA_CERTS: loaded }, false), undefined);
  assert.equal(extraCaCerts({ NODE_EXTRA_CA_CERTS: loaded }, true), 'loaded');
  // The launchers set the variable empty when there was nothing to move.
  assert.equal(extraCaCerts({ [EXTRA_CA_CERTS_ENV]: '' }, true), undefined);
  assert.equal(trustFor({}, { [EXTRA_CA_CERTS_ENV]: '' }), undefined, "no context of its own: Node's default serves");
});

test('an extra certificates file that cannot be read is skipped with a warning, as node does', async (t) => {
  const missing = join(tmpdir(), `ctrd-trust-missing-${process.pid}.pem`);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  assert.equal(extraCaCerts({ [EXTRA_CA_CERTS_ENV]: missing }, false), undefined);
  assert.equal(trustFor({}, { [EXTRA_CA_CERTS_ENV]: missing }), undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(warnings.length, 1, 'read and warned about once');
  assert.match(warnings[0]!, new RegExp(`Ignoring extra certs from \`${missing}\``));
});
