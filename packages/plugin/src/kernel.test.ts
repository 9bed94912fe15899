import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailedPrecondition, isInvalidArgument } from '@ctrd/errdefs';
import { Kernel } from './kernel.js';
import { SkipPluginError } from './errors.js';
import { createToken } from './token.js';
import { injectToken, pluginClass } from './inject.js';
import type { Registration } from './types.js';

interface Greeter { greet(): string }
const Greeter = createToken<Greeter>('io.test.greeter.v1');
const Svc = createToken<{ hello: string }>('io.test.service.v1');

@pluginClass()
class Service {
  constructor(@injectToken(Greeter) readonly greeter: Greeter) {}
}

async function withDirs(fn: (root: string, state: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'kernel-'));
  try {
    await fn(join(dir, 'root'), join(dir, 'state'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('initialises in order, wires tokens and records status', () =>
  withDirs(async (root, state) => {
    const order: string[] = [];
    const regs: Registration[] = [
      { type: Svc.type, id: 'svc', requires: [Greeter.type], init: (ic) => { order.push('svc'); return { hello: ic.get(Greeter).greet() }; } },
      { type: Greeter.type, id: 'en', init: () => { order.push('en'); return { greet: () => 'hello' }; } },
      { type: Greeter.type, id: 'skip', init: () => { throw new SkipPluginError('not on this host'); } },
      { type: Greeter.type, id: 'bad', init: () => { throw new Error('boom'); } },
      { type: 'io.test.class.v1', id: 'c', requires: [Greeter.type], init: (ic) => ic.instantiate(Service) },
    ];
    const k = new Kernel({ registrations: regs, root, state });
    await k.init();
    assert.deepEqual(order, ['en', 'svc']);
    const status = Object.fromEntries(k.records().map((r) => [r.uri, r.status]));
    assert.deepEqual(status, {
      'io.test.greeter.v1.en': 'ok', 'io.test.greeter.v1.skip': 'skip', 'io.test.greeter.v1.bad': 'error',
      'io.test.service.v1.svc': 'ok', 'io.test.class.v1.c': 'ok',
    });
    assert.equal(k.instance<{ hello: string }>('io.test.service.v1.svc')?.hello, 'hello');
    assert.equal(k.instance<Service>('io.test.class.v1.c')?.greeter.greet(), 'hello');
    assert.match(k.records().find((r) => r.id === 'skip')!.error!.message, /skip plugin/);
    assert.ok((await stat(join(root, 'io.test.greeter.v1.en'))).isDirectory());
    assert.ok((await stat(join(state, 'io.test.greeter.v1.en'))).isDirectory());
    assert.ok(k.records().every((r) => typeof r.initMs === 'number'));
    await k.close();
  }));

test('getByType and getByID', () =>
  withDirs(async (root, state) => {
    let seen: string[] = [];
    const regs: Registration[] = [
      { type: Greeter.type, id: 'a', init: () => ({ greet: () => 'a' }) },
      { type: Greeter.type, id: 'b', init: () => ({ greet: () => 'b' }) },
      { type: Svc.type, id: 's', requires: [Greeter.type], init: (ic) => {
        seen = [...ic.getByType(Greeter).keys()];
        return { hello: ic.getByID(Greeter, 'b').greet() };
      } },
    ];
    const k = new Kernel({ registrations: regs, root, state });
    await k.init();
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(k.instance<{ hello: string }>('io.test.service.v1.s')?.hello, 'b');
  }));

test('a failing required plugin stops init naming it', () =>
  withDirs(async (root, state) => {
    const regs: Registration[] = [{ type: Greeter.type, id: 'bad', init: () => { throw new Error('boom'); } }];
    const k = new Kernel({ registrations: regs, root, state, required: ['io.test.greeter.v1.bad'] });
    await assert.rejects(k.init(), (e: Error) => isFailedPrecondition(e) && e.message.includes('io.test.greeter.v1.bad') && e.message.includes('boom'));
  }));

test('a required plugin that is not registered (or disabled) stops init', () =>
  withDirs(async (root, state) => {
    const regs: Registration[] = [{ type: Greeter.type, id: 'a', init: () => ({}) }];
    const k = new Kernel({ registrations: regs, root, state, disabled: ['io.test.greeter.v1.a'], required: ['io.test.greeter.v1.a'] });
    await assert.rejects(k.init(), /not included/);
  }));

test('disabled plugins are never initialised', () =>
  withDirs(async (root, state) => {
    let ran = false;
    const k = new Kernel({ registrations: [{ type: Greeter.type, id: 'a', init: () => { ran = true; return {}; } }], root, state, disabled: ['io.test.greeter.v1.a'] });
    await k.init();
    assert.equal(ran, false);
    assert.equal(k.records().length, 0);
  }));

test('config is validated against the schema before any init', () =>
  withDirs(async (root, state) => {
    let ran = false;
    const regs: Registration[] = [
      { type: 'io.test.first.v1', id: 'f', init: () => { ran = true; return {}; } },
      { type: Greeter.type, id: 'a', config: { schema: { n: { type: 'integer', doc: 'n' } }, defaults: { n: 1 } }, init: (ic) => ic.config },
    ];
    const k = new Kernel({ registrations: regs, root, state, configs: { 'io.test.greeter.v1.a': { m: 2 } } });
    assert.throws(() => k.validateConfigs(), (e: Error) => isInvalidArgument(e) && e.message.includes('"m"') && e.message.includes('io.test.greeter.v1.a'));
    assert.equal(ran, false);
    const ok = new Kernel({ registrations: regs, root, state, configs: { 'io.test.greeter.v1.a': { n: 7 } } });
    await ok.init();
    assert.deepEqual(ok.instance('io.test.greeter.v1.a'), { n: 7 });
  }));

test('an init that hangs fails with a timeout naming the plugin', () =>
  withDirs(async (root, state) => {
    const k = new Kernel({ registrations: [{ type: Greeter.type, id: 'slow', init: () => new Promise(() => {}) }], root, state, initTimeoutMs: 50 });
    await k.init();
    const rec = k.records()[0]!;
    assert.equal(rec.status, 'error');
    assert.match(rec.error!.message, /io\.test\.greeter\.v1\.slow did not initialise/);
  }));

test('close runs in reverse order once', () =>
  withDirs(async (root, state) => {
    const closed: string[] = [];
    const regs: Registration[] = [
      { type: 'io.test.b.v1', id: 'b', requires: ['io.test.a.v1'], init: (ic) => { ic.onClose(() => { closed.push('b-hook'); }); return { close: () => { closed.push('b'); } }; } },
      { type: 'io.test.a.v1', id: 'a', init: () => ({ close: async () => { closed.push('a'); } }) },
    ];
    const k = new Kernel({ registrations: regs, root, state });
    await k.init();
    await Promise.all([k.close(), k.close()]);
    await k.close();
    assert.deepEqual(closed, ['b', 'b-hook', 'a']);
  }));

test('independent plugins initialise concurrently; a dependent waits for all it requires, and the type token is the first in order', () =>
  withDirs(async (root, state) => {
    const events: string[] = [];
    let releaseSlow!: () => void;
    // Run one at a time, `slow` would wait for `fast`, which comes after it, until this timer.
    const slowGate = new Promise<void>((r) => {
      releaseSlow = r;
      setTimeout(() => { events.push('timeout'); r(); }, 2000).unref();
    });
    const regs: Registration[] = [
      {
        type: Greeter.type, id: 'slow',
        init: async () => {
          events.push('slow:start');
          await slowGate;
          events.push('slow:end');
          return { greet: () => 'slow' };
        },
      },
      {
        type: Greeter.type, id: 'fast',
        init: () => {
          events.push('fast');
          releaseSlow();
          return { greet: () => 'fast' };
        },
      },
      { type: 'io.test.class.v1', id: 'c', requires: [Greeter.type], init: (ic) => { events.push('dependent'); return ic.instantiate(Service); } },
    ];
    const k = new Kernel({ registrations: regs, root, state });
    await k.init();
    assert.deepEqual(events.slice(0, 2).sort(), ['fast', 'slow:start']);
    assert.deepEqual(events.slice(2), ['slow:end', 'dependent']);
    // `fast` finished first, but the token resolves to the first plugin of the type in init order.
    assert.equal(k.instance<Service>('io.test.class.v1.c')?.greeter.greet(), 'slow');
    await k.close();
  }));
