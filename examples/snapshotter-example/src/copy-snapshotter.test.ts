import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFailedPrecondition, Kind } from '@ctrd/plugin-sdk';
import { snapshotterSuite } from '@ctrd/plugin-sdk/testsuite';
import { createCopySnapshotter } from './copy-snapshotter.js';

// The same conformance suite ctrd's own snapshotters run.
snapshotterSuite('copy (example)', async (root) => ({ snapshotter: await createCopySnapshotter(root) }));

test('a child starts as a copy of its parent and views get trees of their own', async () => {
  const root = await mkdtemp(join(tmpdir(), 'example-copy-'));
  const sn = await createCopySnapshotter(root);
  try {
    const [m] = await sn.prepare('base-work');
    await writeFile(join(m!.source, 'hello'), 'world');
    await sn.commit('base', 'base-work');
    const [child] = await sn.prepare('child', 'base');
    assert.equal(await readFile(join(child!.source, 'hello'), 'utf8'), 'world');
    await writeFile(join(child!.source, 'hello'), 'changed');
    const [view] = await sn.view('look', 'base');
    assert.deepEqual(view!.options, ['rbind', 'ro']);
    assert.equal(await readFile(join(view!.source, 'hello'), 'utf8'), 'world', 'the parent is untouched');
    assert.equal((await sn.stat('look')).kind, Kind.View);
    await assert.rejects(sn.remove('base'), isFailedPrecondition, 'a parent with children stays');
    await sn.remove('child');
    await sn.remove('look');
    assert.equal((await readdir(join(root, 'trees'))).length, 1, 'removed trees are gone');
  } finally {
    await sn.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('records survive a reopen', async () => {
  const root = await mkdtemp(join(tmpdir(), 'example-copy-'));
  try {
    const a = await createCopySnapshotter(root);
    await a.prepare('k', undefined, { labels: { team: 'a' } });
    await a.close();
    const b = await createCopySnapshotter(root);
    assert.deepEqual((await b.stat('k')).labels, { team: 'a' });
    await b.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
