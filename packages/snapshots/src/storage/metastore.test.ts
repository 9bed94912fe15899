import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { codeOf } from '@ctrd/errdefs';
import { type Info, Kind } from '../snapshotter.js';
import { MetaStore } from './metastore.js';
import type { MetaTransaction } from './transaction.js';

const dir = mkdtempSync(join(tmpdir(), 'metastore-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('records survive reopening, with IDs, parents, labels and usage', async () => {
  const path = join(dir, 'a', 'metadata.json');
  const ms = await MetaStore.open(path);
  const a = await ms.update((tx) => tx.createSnapshot(Kind.Active, 'k', undefined, { labels: { x: 'y' } }));
  await ms.update((tx) => tx.commitActive('k', 'c', { size: 4096, inodes: 2 }));
  const b = await ms.update((tx) => tx.createSnapshot(Kind.View, 'v', 'c'));
  assert.deepEqual(b.parentIds, [a.id]);
  await ms.close();

  const again = await MetaStore.open(path);
  const { id, info, usage } = await again.view((tx) => tx.getInfo('c'));
  assert.equal(id, a.id);
  assert.equal(info.kind, Kind.Committed);
  assert.deepEqual(usage, { size: 4096, inodes: 2 });
  assert.deepEqual(await again.view((tx) => tx.getSnapshot('v')), { id: b.id, kind: Kind.View, parentIds: [a.id] });
  const next = await again.update((tx) => tx.createSnapshot(Kind.Active, 'n', undefined));
  assert.ok(Number(next.id) > Number(b.id), 'IDs are never reused');
  await again.close();
});

test('IDs found on disk are never handed out again', async () => {
  const path = join(dir, 'ondisk', 'metadata.json');
  const ms = await MetaStore.open(path);
  const a = await ms.update((tx) => tx.createSnapshot(Kind.Active, 'a', undefined));
  await ms.close();
  // A crash after making directory a.id+1 and before committing its record leaves it behind.
  const orphan = String(Number(a.id) + 1);
  const again = await MetaStore.open(path, [a.id, orphan, 'new-x1Y2z3', 'rm-7', '0', '007']);
  const b = await again.update((tx) => tx.createSnapshot(Kind.Active, 'b', undefined));
  assert.equal(b.id, String(Number(orphan) + 1));
  await again.close();
});

test('a writer that throws leaves neither memory nor disk changed', async () => {
  const path = join(dir, 'b.json');
  const ms = await MetaStore.open(path);
  await ms.update((tx) => tx.createSnapshot(Kind.Active, 'keep', undefined));
  const before = readFileSync(path, 'utf8');
  await assert.rejects(
    ms.update((tx) => {
      tx.createSnapshot(Kind.Active, 'lost', undefined);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(readFileSync(path, 'utf8'), before);
  await ms.update((tx) => tx.createSnapshot(Kind.Active, 'journalled', undefined));
  const base = readFileSync(path, 'utf8');
  const journal = readFileSync(`${path}.journal`, 'utf8');
  await assert.rejects(
    ms.update((tx) => {
      tx.remove('keep');
      tx.createSnapshot(Kind.Active, 'lost', undefined);
      throw new Error('boom again');
    }),
    /boom again/,
  );
  assert.equal(readFileSync(path, 'utf8'), base);
  assert.equal(readFileSync(`${path}.journal`, 'utf8'), journal);
  assert.equal((await ms.view((tx) => tx.getInfo('keep'))).info.name, 'keep');
  assert.equal(codeOf(await ms.view((tx) => tx.getInfo('lost')).catch((e: unknown) => e)), 'NOT_FOUND');
  await ms.close();
});

test('writers are serialised and readers see only committed state', async () => {
  const ms = await MetaStore.open(join(dir, 'c.json'));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = ms.update(async (tx) => {
    tx.createSnapshot(Kind.Active, 'slow', undefined);
    await gate;
  });
  const fast = ms.update((tx) => tx.createSnapshot(Kind.Active, 'fast', undefined));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(codeOf(await ms.view((tx) => tx.getInfo('slow')).catch((e: unknown) => e)), 'NOT_FOUND');
  assert.equal(codeOf(await ms.view((tx) => tx.getInfo('fast')).catch((e: unknown) => e)), 'NOT_FOUND');
  release();
  await Promise.all([slow, fast]);
  const ids = await ms.view((tx) => [tx.getInfo('slow').id, tx.getInfo('fast').id]);
  assert.ok(Number(ids[0]) < Number(ids[1]), 'the earlier writer ran first');
  await ms.close();
  await ms.close();
  await assert.rejects(ms.view(() => 1), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
});

test('a read-only transaction refuses writes; labels named like prototype keys stay data', async () => {
  const ms = await MetaStore.open(join(dir, 'd.json'));
  await assert.rejects(ms.view((tx) => tx.createSnapshot(Kind.Active, 'x', undefined)), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
  const labels = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
  await ms.update((tx) => tx.createSnapshot(Kind.Active, 'x', undefined, { labels }));
  const info = await ms.view((tx) => tx.getInfo('x').info);
  assert.deepEqual(Object.keys(info.labels).sort(), ['__proto__', 'constructor']);
  assert.equal(Object.getPrototypeOf(info.labels), Object.prototype);
  await ms.close();
});

test('a corrupt or future file is refused, not overwritten', async () => {
  const bad = join(dir, 'e.json');
  writeFileSync(bad, '{not json');
  await assert.rejects(MetaStore.open(bad), (e: unknown) => codeOf(e) === 'DATA_LOSS');
  writeFileSync(bad, JSON.stringify({ version: 99, nextId: 1, snapshots: [] }));
  await assert.rejects(MetaStore.open(bad), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
  assert.match(readFileSync(bad, 'utf8'), /"version":99/);
});

/** dump lists every record as the store reports it, and the ID the next snapshot would get. */
async function dump(ms: MetaStore): Promise<{ records: [string, { id: string; info: Info }][]; next: string }> {
  const records = await ms.view(async (tx: MetaTransaction) => {
    const out: [string, { id: string; info: Info }][] = [];
    await tx.walkInfo((info) => void out.push([info.name, { id: tx.getInfo(info.name).id, info }]));
    return out.sort(([a], [b]) => (a < b ? -1 : 1));
  });
  let next = '';
  await ms
    .update((tx) => {
      next = tx.createSnapshot(Kind.Active, '\0probe', undefined).id;
      throw new Error('probe only');
    })
    .catch(() => undefined);
  return { records, next };
}

/** churn makes a history with every kind of change: creates, commits, label updates, removes. */
async function churn(ms: MetaStore, n: number, prefix = ''): Promise<void> {
  for (let i = 0; i < n; i++) {
    await ms.update((tx) => tx.createSnapshot(Kind.Active, `${prefix}a${i}`, undefined, { labels: { n: String(i) } }));
    await ms.update((tx) => tx.commitActive(`${prefix}a${i}`, `${prefix}c${i}`, { size: i, inodes: 1 }));
    if (i % 3 === 0) await ms.update((tx) => tx.updateInfo({ name: `${prefix}c${i}`, labels: { touched: 'yes' } }, ['labels.touched']));
    if (i % 4 === 1) await ms.update((tx) => tx.remove(`${prefix}c${i}`));
  }
}

test('committed changes are journalled, not rewritten, and replayed on reopening', async () => {
  const path = join(dir, 'replay.json');
  const ms = await MetaStore.open(path);
  await churn(ms, 12);
  const base = readFileSync(path, 'utf8');
  await ms.update((tx) => tx.remove('c0'));
  assert.equal(readFileSync(path, 'utf8'), base, 'the base file is not rewritten by a small change');
  const want = await dump(ms);
  await ms.close();
  assert.ok(readFileSync(`${path}.journal`, 'utf8').split('\n').length > 12);

  const again = await MetaStore.open(path);
  assert.deepEqual(await dump(again), want);
  assert.equal(codeOf(await again.view((tx) => tx.getInfo('c0')).catch((e: unknown) => e)), 'NOT_FOUND');
  assert.deepEqual((await again.view((tx) => tx.getInfo('c3'))).info.labels, { touched: 'yes' });
  await again.close();
});

test('a torn last journal line is dropped, and cut off before the next append', async () => {
  for (const torn of ['{"nextId":99,"put":[["x",{"id', 'not json at all\n', '{"nextId":99}']) {
    const path = join(dir, `torn-${torn.length}.json`);
    const ms = await MetaStore.open(path);
    await churn(ms, 3);
    const want = await dump(ms);
    await ms.close();
    appendFileSync(`${path}.journal`, torn);
    const damaged = readFileSync(`${path}.journal`);

    const again = await MetaStore.open(path);
    assert.deepEqual(await dump(again), want, JSON.stringify(torn));
    assert.deepEqual(readFileSync(`${path}.journal`), damaged, 'opening does not write');
    await again.update((tx) => tx.createSnapshot(Kind.Active, 'after', undefined));
    await again.close();
    assert.ok(!readFileSync(`${path}.journal`, 'utf8').includes(torn), 'the torn line is gone');

    const third = await MetaStore.open(path);
    assert.deepEqual((await dump(third)).records.map(([k]) => k), [...want.records.map(([k]) => k), 'after'].sort());
    await third.close();
  }
});

test('a damaged journal line before the last is DataLoss naming the journal; a future journal is refused', async () => {
  const path = join(dir, 'middle.json');
  const ms = await MetaStore.open(path);
  await churn(ms, 3);
  await ms.close();
  const lines = readFileSync(`${path}.journal`, 'utf8').split('\n');
  assert.ok(lines.length > 4);
  lines[2] = lines[2]!.slice(0, 10);
  writeFileSync(`${path}.journal`, lines.join('\n'));
  await assert.rejects(MetaStore.open(path), (e: unknown) => codeOf(e) === 'DATA_LOSS' && (e as Error).message.includes(`${path}.journal`));

  writeFileSync(`${path}.journal`, `${JSON.stringify({ version: 99, gen: 1 })}\n`);
  await assert.rejects(MetaStore.open(path), (e: unknown) => codeOf(e) === 'FAILED_PRECONDITION');
  assert.match(readFileSync(`${path}.journal`, 'utf8'), /"version":99/);
});

test('the journal is folded into the base once it outgrows it, and reopening gives the same state', async () => {
  const path = join(dir, 'compact.json');
  const ms = await MetaStore.open(path);
  await churn(ms, 250);
  await churn(ms, 3, 'z');
  const gen = (JSON.parse(readFileSync(path, 'utf8')) as { gen: number }).gen;
  assert.ok(gen >= 2, `compacted at least once (generation ${gen})`);
  const journal = readFileSync(`${path}.journal`, 'utf8');
  assert.ok(journal.length < 64 * 1024);
  assert.ok(journal.startsWith(`{"version":1,"gen":${gen}}\n`) && journal.includes('"zc2"'), 'later changes are journalled on the new base');
  const want = await dump(ms);
  await ms.close();
  const again = await MetaStore.open(path);
  assert.deepEqual(await dump(again), want);
  await again.close();
});

test('a journal older than its base is ignored, and one newer than it is DataLoss', async () => {
  const path = join(dir, 'stale.json');
  const rec = { id: '1', kind: Kind.Committed, labels: {}, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' };
  writeFileSync(path, JSON.stringify({ version: 1, gen: 3, nextId: 2, snapshots: [['base', rec]] }));
  // What a compaction that died after renaming the new base leaves: the journal it folded in.
  const stale = [{ version: 1, gen: 2 }, { nextId: 9, put: [['zombie', { ...rec, id: '8' }]], del: ['base'] }];
  writeFileSync(`${path}.journal`, stale.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const ms = await MetaStore.open(path);
  assert.deepEqual((await dump(ms)).records.map(([k]) => k), ['base']);
  const { id } = await ms.update((tx) => tx.createSnapshot(Kind.Active, 'new', 'base'));
  assert.equal(id, '2');
  await ms.close();
  const again = await MetaStore.open(path);
  assert.deepEqual((await dump(again)).records.map(([k]) => k), ['base', 'new']);
  await again.close();

  writeFileSync(`${path}.journal`, `${JSON.stringify({ version: 1, gen: 4 })}\n`);
  await assert.rejects(MetaStore.open(path), (e: unknown) => codeOf(e) === 'DATA_LOSS');
});

test('a store written before the journal existed opens and keeps working', async () => {
  const path = join(dir, 'legacy.json');
  const rec = { id: '7', kind: Kind.Committed, labels: { a: 'b' }, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', size: 5, inodes: 1 };
  writeFileSync(path, JSON.stringify({ version: 1, nextId: 8, snapshots: [['old', rec]] }));
  const ms = await MetaStore.open(path);
  assert.deepEqual((await ms.view((tx) => tx.getInfo('old'))).usage, { size: 5, inodes: 1 });
  assert.deepEqual(await ms.update((tx) => tx.createSnapshot(Kind.View, 'v', 'old')), { id: '8', kind: Kind.View, parentIds: ['7'] });
  await ms.close();
  const again = await MetaStore.open(path);
  assert.deepEqual(await again.view((tx) => tx.getSnapshot('v')), { id: '8', kind: Kind.View, parentIds: ['7'] });
  await again.close();
});

test('a reader sees one committed state for the whole of its view, across awaits', async () => {
  const ms = await MetaStore.open(join(dir, 'isolation.json'));
  await churn(ms, 4);
  const before = await dump(ms);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen = ms.view(async (tx) => {
    await gate;
    const names: string[] = [];
    await tx.walkInfo((info) => void names.push(info.name));
    return { names: names.sort(), labels: tx.getInfo('c0').info.labels, c2: tx.getInfo('c2').id };
  });
  await ms.update((tx) => tx.remove('c2'));
  await ms.update((tx) => tx.updateInfo({ name: 'c0', labels: { changed: 'yes' } }));
  await ms.update((tx) => tx.createSnapshot(Kind.Active, 'later', undefined));
  release();
  const got = await seen;
  assert.deepEqual(got.names, before.records.map(([k]) => k));
  assert.deepEqual(got.labels, { touched: 'yes' });
  assert.equal(got.c2, before.records.find(([k]) => k === 'c2')![1].id);
  assert.deepEqual((await ms.view((tx) => tx.getInfo('c0'))).info.labels, { changed: 'yes' });
  await ms.close();
});

test('what an update appends does not grow with the number of records', async () => {
  const appended = async (n: number): Promise<{ bytes: number; baseUnchanged: boolean }> => {
    const path = join(dir, `cost-${n}.json`);
    const ms = await MetaStore.open(path);
    await ms.update((tx) => {
      for (let i = 0; i < n; i++) tx.createSnapshot(Kind.Active, `k${String(i).padStart(6, '0')}`, undefined, { labels: { i: String(i) } });
    });
    await ms.update((tx) => tx.createSnapshot(Kind.Active, 'warm', undefined));
    const base = readFileSync(path);
    const size = statSync(`${path}.journal`).size;
    await ms.update((tx) => tx.createSnapshot(Kind.Active, 'probe', undefined, { labels: { x: 'y' } }));
    await ms.update((tx) => tx.remove('probe'));
    const bytes = statSync(`${path}.journal`).size - size;
    const baseUnchanged = readFileSync(path).equals(base);
    await ms.close();
    return { bytes, baseUnchanged };
  };
  const small = await appended(10);
  const large = await appended(10_000);
  assert.ok(small.baseUnchanged && large.baseUnchanged, 'the base is not rewritten');
  assert.ok(small.bytes > 0 && small.bytes < 400, `${small.bytes} bytes for two changes`);
  // Only the new ID and the two next IDs have more digits (3 each) in the larger store.
  assert.ok(large.bytes - small.bytes <= 9, `${large.bytes} bytes with 10,000 records, ${small.bytes} with 10`);
});

test('a snapshot with children cannot be removed: in the transaction that adds them, after commits, and after reopening', async () => {
  const path = join(dir, 'children.json');
  const isPrecondition = (e: unknown): boolean => codeOf(e) === 'FAILED_PRECONDITION';
  const ms = await MetaStore.open(path);
  // The store's first commit writes its base file: r and its child stay there.
  await ms.update((tx) => {
    tx.createSnapshot(Kind.Active, 'ra', undefined);
    tx.commitActive('ra', 'r', { size: 0, inodes: 0 });
    tx.createSnapshot(Kind.View, 'rkid', 'r');
  });
  await ms.update((tx) => {
    tx.createSnapshot(Kind.Active, 'a', undefined);
    tx.commitActive('a', 'p', { size: 0, inodes: 0 });
    // A child made earlier in the same transaction counts.
    tx.createSnapshot(Kind.Active, 'kid', 'p');
    assert.throws(() => tx.remove('p'), isPrecondition);
  });
  await ms.update((tx) => tx.createSnapshot(Kind.View, 'view', 'p'));
  await assert.rejects(ms.update((tx) => tx.remove('p')), isPrecondition);
  // A transaction that throws leaves the committed count as it was.
  await assert.rejects(ms.update((tx) => {
    tx.remove('kid');
    tx.remove('view');
    throw new Error('rolled back');
  }), /rolled back/);
  await assert.rejects(ms.update((tx) => tx.remove('p')), isPrecondition);
  // Children removed earlier in the same transaction no longer count.
  await ms.update((tx) => {
    tx.remove('kid');
    assert.throws(() => tx.remove('p'), isPrecondition);
    tx.remove('view');
    tx.remove('p');
    tx.createSnapshot(Kind.Active, 'b', undefined);
    tx.commitActive('b', 'q', { size: 0, inodes: 0 });
    tx.createSnapshot(Kind.Active, 'qkid', 'q');
  });
  await ms.close();

  // Counted again from the base and the journal.
  const again = await MetaStore.open(path);
  await assert.rejects(again.update((tx) => tx.remove('q')), isPrecondition);
  await assert.rejects(again.update((tx) => tx.remove('r')), isPrecondition);
  await again.update((tx) => tx.remove('qkid'));
  await again.update((tx) => tx.remove('q'));
  await again.update((tx) => tx.remove('rkid'));
  await again.update((tx) => tx.remove('r'));
  assert.equal(await again.view((tx) => tx.idMap().size), 0);
  await again.close();
});
