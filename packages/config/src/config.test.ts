import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInvalidArgument, isNotFound } from '@ctrd/errdefs';
import type { Registration } from '@ctrd/plugin';
import { defaultConfig, loadConfig, parseConfigText, renderDefaultConfig, ttrpcAddressOf } from './index.js';

const regs: Registration[] = [
  {
    type: 'io.containerd.content.v1', id: 'content', init: () => ({}),
    config: { schema: { sync: { type: 'boolean', doc: 'fsync' } }, defaults: { sync: true } },
  },
  {
    type: 'io.containerd.runtime.v2', id: 'task', init: () => ({}),
    config: {
      schema: { runtimes: { type: 'tables', doc: 'runtimes', fields: { binary: { type: 'string', doc: 'binary' } } }, shim_debug: { type: 'boolean', doc: 'debug' } },
      defaults: { runtimes: {}, shim_debug: false },
    },
  },
  { type: 'io.containerd.grpc.v1', id: 'version', init: () => ({}) },
];

test('an empty file gives the defaults', () => {
  const { config, warnings } = parseConfigText('', regs);
  assert.deepEqual({ ...config, plugins: {} }, defaultConfig());
  assert.deepEqual(warnings, []);
  assert.equal(ttrpcAddressOf(config), '/run/ctrd/ctrd.sock.ttrpc');
});

test('top-level and section keys are read', () => {
  const { config } = parseConfigText(`
version = 2
root = "/r"
disabled_plugins = ["io.containerd.grpc.v1.version"]
[grpc]
address = "/s.sock"
gid = 5
[debug]
level = "debug"
[plugins."io.containerd.content.v1.content"]
sync = false
[plugins."io.containerd.runtime.v2.task".runtimes.foo]
binary = "/bin/foo"
`, regs);
  assert.equal(config.root, '/r');
  assert.equal(config.grpc.address, '/s.sock');
  assert.equal(config.grpc.gid, 5);
  assert.equal(config.grpc.max_recv_message_size, 16 << 20);
  assert.equal(config.debug.level, 'debug');
  assert.deepEqual(config.plugins['io.containerd.content.v1.content'], { sync: false });
  assert.deepEqual(config.plugins['io.containerd.runtime.v2.task'], { runtimes: { foo: { binary: '/bin/foo' } }, shim_debug: false });
  assert.deepEqual(config.disabled_plugins, ['io.containerd.grpc.v1.version']);
});

test('unknown keys are errors naming the key and where', () => {
  assert.throws(() => parseConfigText('bogus = 1', regs), (e: Error) => isInvalidArgument(e) && e.message.includes('"bogus"'));
  assert.throws(() => parseConfigText('[grpc]\nadress = "x"', regs), (e: Error) => e.message.includes('"adress"') && e.message.includes('grpc'));
  assert.throws(() => parseConfigText('[plugins."io.containerd.content.v1.content"]\nsnyc = true', regs),
    (e: Error) => isInvalidArgument(e) && e.message.includes('"snyc"') && e.message.includes('io.containerd.content.v1.content'));
  assert.throws(() => parseConfigText('[plugins."io.containerd.grpc.v1.version"]\nx = 1', regs), (e: Error) => e.message.includes('"x"'));
});

test('a section for an unregistered plugin only warns', () => {
  const { warnings, config } = parseConfigText('[plugins."io.containerd.grpc.v1.cri"]\nsandbox_image = "x"', regs);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /io\.containerd\.grpc\.v1\.cri/);
  assert.deepEqual({ ...(config.plugins['io.containerd.grpc.v1.cri'] as object) }, { sandbox_image: 'x' });
});

test('version must be 2 and TOML errors give a position', () => {
  assert.throws(() => parseConfigText('version = 1', regs), isInvalidArgument);
  assert.throws(() => parseConfigText('root = ', regs), (e: Error) => isInvalidArgument(e) && /line 1/.test(e.message));
});

test('the rendered default parses back to the defaults', () => {
  const text = renderDefaultConfig(regs);
  assert.match(text, /\[plugins\."io\.containerd\.content\.v1\.content"\]/);
  assert.match(text, /^# /m, 'keys are documented');
  assert.doesNotMatch(text, /io\.containerd\.grpc\.v1\.version/, 'plugins without config get no section');
  const { config, warnings } = parseConfigText(text, regs);
  assert.deepEqual(warnings, []);
  const expected = defaultConfig();
  expected.plugins = { 'io.containerd.content.v1.content': { sync: true }, 'io.containerd.runtime.v2.task': { runtimes: {}, shim_debug: false } };
  assert.deepEqual(config, expected);
});

test('files, imports, fallback and overrides', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-'));
  try {
    await writeFile(join(dir, 'main.toml'), 'imports = ["extra.toml"]\nroot = "/main"\n[grpc]\naddress = "/main.sock"\n');
    await writeFile(join(dir, 'extra.toml'), '[grpc]\ngid = 7\n[plugins."io.containerd.content.v1.content"]\nsync = false\n');
    const loaded = await loadConfig({ path: join(dir, 'main.toml'), registrations: regs, overrides: { state: '/st', logLevel: 'debug' } });
    assert.equal(loaded.config.root, '/main');
    assert.equal(loaded.config.grpc.address, '/main.sock');
    assert.equal(loaded.config.grpc.gid, 7);
    assert.equal(loaded.config.state, '/st');
    assert.equal(loaded.config.debug.level, 'debug');
    assert.deepEqual(loaded.config.plugins['io.containerd.content.v1.content'], { sync: false });
    assert.equal(loaded.files.length, 2);
    const none = await loadConfig({ fallback: join(dir, 'absent.toml'), registrations: regs });
    assert.equal(none.config.root, '/var/lib/ctrd');
    assert.deepEqual(none.files, []);
    const fb = await loadConfig({ fallback: join(dir, 'main.toml'), registrations: regs });
    assert.equal(fb.config.root, '/main');
    await assert.rejects(loadConfig({ path: join(dir, 'missing.toml'), registrations: regs }), isNotFound);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('[grpc] busy_poll_us defaults to 200 µs, takes 0 to turn polling off, and refuses a negative window', () => {
  assert.equal(parseConfigText('', regs).config.grpc.busy_poll_us, 200);
  assert.equal(parseConfigText('[grpc]\nbusy_poll_us = 0', regs).config.grpc.busy_poll_us, 0);
  assert.throws(() => parseConfigText('[grpc]\nbusy_poll_us = -1', regs), (e: Error) => isInvalidArgument(e) && e.message.includes('busy_poll_us'));
});

test('reading the config loads neither the plugin kernel nor the logger', async () => {
  // The daemon reads its config before it binds its socket; the kernel (tsyringe,
  // reflect-metadata) and the logger (pino) load after. Checked in a fresh process: reflect-metadata
  // defines Reflect.getMetadata, and Node's pino needs node:worker_threads.
  const { execFileSync } = await import('node:child_process');
  const script = `
    const { parseConfigText } = await import(${JSON.stringify(new URL('./index.js', import.meta.url).href)});
    parseConfigText('version = 2', []);
    process.stdout.write(JSON.stringify({ reflect: typeof Reflect.getMetadata, workers: process.moduleLoadList.some((m) => m.endsWith(' worker_threads')) }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.deepEqual(out, { reflect: 'undefined', workers: false });
});
