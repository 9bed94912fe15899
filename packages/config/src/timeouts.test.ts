import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { configureTimeouts, DEFAULT_TIMEOUT_MS, parseConfigText, renderDefaultConfig, TIMEOUT_KEYS, Timeouts, timeouts } from './index.js';

test('the defaults are containerd 1.6 values and an unknown key reads as one second', () => {
  const t = new Timeouts();
  assert.equal(t.get(TIMEOUT_KEYS.shimLoad), 5000);
  assert.equal(t.get(TIMEOUT_KEYS.shimCleanup), 5000);
  assert.equal(t.get(TIMEOUT_KEYS.shimShutdown), 3000);
  assert.equal(t.get(TIMEOUT_KEYS.taskState), 2000);
  assert.equal(t.get(TIMEOUT_KEYS.boltOpen), 0);
  assert.equal(t.get('io.example.unset'), DEFAULT_TIMEOUT_MS);
  assert.equal(t.has('io.example.unset'), false);
});

test('a [timeouts] table overrides only the keys it names', () => {
  const { config } = parseConfigText('[timeouts]\n"io.containerd.timeout.shim.cleanup" = "1m30s"\n"io.example.mine" = "250ms"\n', []);
  assert.equal(config.timeouts['io.containerd.timeout.shim.cleanup'], '1m30s');
  assert.equal(config.timeouts['io.containerd.timeout.shim.load'], '5s', 'the other defaults stay');
  const t = new Timeouts(config.timeouts);
  assert.equal(t.get(TIMEOUT_KEYS.shimCleanup), 90_000);
  assert.equal(t.get('io.example.mine'), 250);
  assert.equal(t.all()['io.containerd.timeout.task.state'], 2000);
});

test('a timeout that is not a Go duration stops the config naming the key', () => {
  assert.throws(
    () => parseConfigText('[timeouts]\n"io.containerd.timeout.shim.load" = "five seconds"\n', []),
    (err: Error) => isInvalidArgument(err) && /shim\.load/.test(err.message) && /time duration/.test(err.message),
  );
  assert.throws(() => parseConfigText('[timeouts]\n"io.containerd.timeout.shim.load" = 5\n', []), isInvalidArgument);
});

test('configureTimeouts replaces the process-wide table plugins read', () => {
  const before = timeouts();
  try {
    configureTimeouts({ [TIMEOUT_KEYS.taskState]: '7s' });
    assert.equal(timeouts().get(TIMEOUT_KEYS.taskState), 7000);
    assert.equal(timeouts().get(TIMEOUT_KEYS.shimLoad), 5000);
  } finally {
    configureTimeouts(Object.fromEntries(Object.entries(before.all()).map(([k, v]) => [k, `${v}ms`])));
  }
});

test('signal fires after the timeout and never for zero', async () => {
  const t = new Timeouts({ 'io.example.short': '20ms' });
  const s = t.signal('io.example.short');
  assert.equal(s.aborted, false);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(s.aborted, true);
  assert.equal(t.signal(TIMEOUT_KEYS.boltOpen).aborted, false);
});

test('proxy plugins are read with containerd names and checked', () => {
  const { config } = parseConfigText(
    '[proxy_plugins.fast]\ntype = "snapshot"\naddress = "/run/fast.sock"\n[proxy_plugins.blobs]\ntype = "io.containerd.content.v1"\naddress = "/run/blobs.sock"\n',
    [],
  );
  assert.deepEqual(config.proxy_plugins, {
    fast: { type: 'snapshot', address: '/run/fast.sock' },
    blobs: { type: 'io.containerd.content.v1', address: '/run/blobs.sock' },
  });
  assert.throws(() => parseConfigText('[proxy_plugins.x]\ntype = "diff"\naddress = "/s"\n', []), isInvalidArgument);
  assert.throws(() => parseConfigText('[proxy_plugins.x]\ntype = "snapshot"\n', []), (err: Error) => isInvalidArgument(err) && /needs an address/.test(err.message));
  assert.throws(() => parseConfigText('[proxy_plugins.x]\naddress = "/s"\n', []), (err: Error) => isInvalidArgument(err) && /needs a type/.test(err.message));
  assert.throws(() => parseConfigText('[proxy_plugins.x]\ntype = "snapshot"\naddress = "/s"\nbogus = 1\n', []), (err: Error) => /bogus/.test(err.message));
});

test('the default config documents every runtime timeout key', () => {
  const text = renderDefaultConfig([]);
  for (const key of Object.values(TIMEOUT_KEYS)) assert.match(text, new RegExp(`"${key.replace(/\./g, '\\.')}" = "`));
  assert.match(text, /shim\.load \(reconnecting/);
});
