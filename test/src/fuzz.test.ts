import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadDescriptors, type Descriptors } from './fuzz/descriptors.js';
import { Metadata, status } from '@grpc/grpc-js';
import { RawClient, type CallOutcome } from './fuzz/client.js';
import { checkIntegrity, createFixture, type Fixture } from './fuzz/integrity.js';
import { METHOD_SPECS } from './fuzz/methods.js';
import { Prng, seedFor } from './fuzz/prng.js';
import { buildRequest } from './fuzz/requests.js';
import { formatStats, methodOf, runFuzz } from './fuzz/runner.js';
import { makePools } from './fuzz/values.js';
import { TOP, TestDaemon, missingTool, notRoot } from './harness.js';

// `npm test` runs a reduced, fixed-seed set; CTRD_STRESS=1 runs 100k requests with a fresh seed.
// CTRD_FUZZ_SEED replays a run, CTRD_FUZZ_REQUESTS and CTRD_FUZZ_CONCURRENCY size it.
const STRESS = process.env.CTRD_STRESS === '1';
const REQUESTS = Number(process.env.CTRD_FUZZ_REQUESTS ?? (STRESS ? 100_000 : 2000));
const SEED = process.env.CTRD_FUZZ_SEED ? Number(process.env.CTRD_FUZZ_SEED) >>> 0 : STRESS ? randomInt(2 ** 32) : 0x5eed_c7d;
const CONCURRENCY = Number(process.env.CTRD_FUZZ_CONCURRENCY ?? 16);
const FUZZ_NAMESPACES = ['default', 'fuzz', 'fuzz-b'];

const skip = missingTool('ctr') ?? notRoot();
let descriptors: Descriptors;

before(() => {
  descriptors = loadDescriptors(TOP);
});

test('every rpc in the proto descriptors has a fuzz spec, and no spec is stale', () => {
  const declared = descriptors.methods.map((m) => m.path);
  assert.ok(declared.length > 80, `only ${declared.length} methods read from the descriptors`);
  assert.deepEqual(declared.filter((p) => !METHOD_SPECS[p]), [], 'methods without fuzz coverage');
  assert.deepEqual(Object.keys(METHOD_SPECS).filter((p) => !declared.includes(p)), [], 'specs for methods the protos do not declare');
});

test('a request is a pure function of the run seed and its index', () => {
  const pools = makePools([]);
  for (const index of [0, 1, 17, 99_999]) {
    const m = methodOf(descriptors.methods, index);
    const a = buildRequest(descriptors, pools, m, METHOD_SPECS[m.path]!, seedFor(SEED, index));
    const b = buildRequest(descriptors, pools, m, METHOD_SPECS[m.path]!, seedFor(SEED, index));
    assert.deepEqual(a.messages, b.messages);
    assert.equal(a.namespace, b.namespace);
  }
  assert.notEqual(new Prng(1).u32(), new Prng(2).u32());
});

// The reference grammar's separator `[-]*` can match nothing, so `(?:sep [a-z0-9]+)*` nests
// quantifiers over the same letters; a regex engine that backtracks (V8's, unlike Go's RE2) then
// takes exponential time on a long run of letters that ends in a character the grammar refuses.
const REDOS_REF = `${'a'.repeat(25)}!`;

describe('malformed requests against a live daemon', { skip: skip ?? false }, () => {
  let d: TestDaemon;
  let fixture: Fixture;

  before(async () => {
    d = await TestDaemon.start();
    fixture = await createFixture(d);
  });

  after(async () => {
    await d?.dispose();
  });

  test(`fuzz ${REQUESTS} requests over every method`, { timeout: Math.max(600_000, REQUESTS * 40) }, async () => {
    // Two subscribers stay connected through the whole run: no fuzzed event may break their streams.
    const watcher = new RawClient(d.address);
    const stop = new AbortController();
    const shape = { deadlineMs: 24 * 3600_000, signal: stop.signal };
    const subscribers = ['/containerd.services.events.v1.Events/Subscribe', '/ctrd.services.events.v1.Events/Subscribe'].map((path) => {
      const outcome: { done?: CallOutcome } = {};
      void watcher.serverStream(path, Buffer.alloc(0), new Metadata(), shape).then((o) => (outcome.done = o));
      return { path, outcome };
    });
    const stats = await runFuzz({
      address: d.address,
      descriptors,
      specs: METHOD_SPECS,
      pools: makePools([...fixture.blobs.keys()]),
      seed: SEED,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      deadlineMs: 20_000,
      progress: (sent, ms) => console.log(`fuzz: ${sent} requests, ${Math.round(sent / (ms / 1000))} req/s`),
      healthy: () => (d.proc?.exitCode !== null || d.proc?.signalCode ? `daemon exited: ${d.output.slice(-2000)}` : undefined),
    });
    console.log(formatStats(stats));
    for (const f of stats.failures.slice(0, 20)) console.log(`fuzz failure: ${JSON.stringify(f)}`);
    const broken = subscribers.filter((s) => s.outcome.done).map((s) => `${s.path}: ${s.outcome.done!.code} ${s.outcome.done!.details}`);
    stop.abort();
    await new Promise((r) => setTimeout(r, 50));
    watcher.close();
    assert.deepEqual(broken, [], 'event subscriptions ended during the run');
    assert.ok(subscribers.every((s) => s.outcome.done?.code === status.CANCELLED), 'subscriptions end only when cancelled');
    assert.equal(stats.stoppedBecause, undefined);
    assert.equal(stats.sent, REQUESTS);
    const unfuzzed = descriptors.methods.filter((m) => !stats.outcomes.get(m.path)).map((m) => m.path);
    assert.deepEqual(unfuzzed, REQUESTS >= descriptors.methods.length ? [] : unfuzzed, 'methods that got no request');
    assert.deepEqual(
      stats.failures.slice(0, 20).map((f) => `${f.method} -> ${f.code}: ${f.details} (seed ${f.requestSeed})`),
      [],
      `disallowed answers (run seed ${SEED}; replay with CTRD_FUZZ_SEED=${SEED})`,
    );
  });

  test('a long invalid image reference is refused at once (no catastrophic backtracking)', async () => {
    const client = new RawClient(d.address);
    const md = new Metadata();
    md.set('containerd-namespace', 'fuzz');
    try {
      // PullRequest { ref = 1 }, sent raw: the pull parses the reference before it dials anything.
      const req = Buffer.concat([Buffer.from([0x0a, REDOS_REF.length]), Buffer.from(REDOS_REF)]);
      const started = performance.now();
      const r = await client.serverStream('/ctrd.services.transfer.v1.Transfer/Pull', req, md, { deadlineMs: 120_000 });
      const ms = performance.now() - started;
      assert.equal(r.code, status.INVALID_ARGUMENT, r.details);
      assert.ok(ms < 1000, `Transfer.Pull of ${JSON.stringify(REDOS_REF)} took ${Math.round(ms)} ms: the daemon's event loop was blocked`);
    } finally {
      client.close();
    }
  });

  test('the store is intact after the fuzz run, and after a restart', async () => {
    const client = new RawClient(d.address);
    const version = await client.unary('/containerd.services.version.v1.Version/Version', Buffer.alloc(0), new Metadata(), { deadlineMs: 10_000 });
    client.close();
    assert.equal(version.code, status.OK, `the daemon does not answer Version: ${version.details}`);
    assert.deepEqual(await checkIntegrity(d, fixture, FUZZ_NAMESPACES), []);
    await d.stop();
    await d.boot();
    assert.deepEqual(await checkIntegrity(d, fixture, FUZZ_NAMESPACES), []);
  });
});
