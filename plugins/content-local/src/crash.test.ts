import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { digestFromBytes, readBlob } from '@ctrd/content';
import { createLocalStore } from './local-store.js';

// A writer process that commits random blobs of up to 6 MiB in a loop until it is killed.
const WRITER = `
import { randomBytes, randomInt } from 'node:crypto';
const { createLocalStore } = await import(process.argv[1]);
const store = await createLocalStore(process.argv[2]);
for (let i = 0; ; i++) {
  const data = randomBytes(randomInt(1, 6 * 1024 * 1024));
  const w = await store.writer({ ref: 'blob-' + i, total: data.length });
  for (let o = 0; o < data.length; o += 65536) await w.write(data.subarray(o, o + 65536));
  await w.commit(data.length, '', { labels: { n: String(i) } });
  if (i === 0) process.stdout.write('ready\\n');
}
`;

async function runAndKill(root: string, afterMs: number): Promise<void> {
  const entry = new URL('./index.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, entry, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await delay(afterMs);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('a writer killed at random moments leaves only complete, verified blobs', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ctrd-content-crash-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const ms of [3, 17, 41, 90, 150]) await runAndKill(root, ms);

  const store = await createLocalStore(root);
  let blobs = 0;
  for await (const info of store.list()) {
    blobs++;
    const data = await readBlob(store, info);
    assert.equal(data.length, info.size);
    assert.equal(digestFromBytes(data), info.digest, `blob ${info.digest} holds what its name says`);
    assert.ok(info.labels.n !== undefined, 'labels were committed with the blob');
  }
  assert.ok(blobs >= 5, `at least one blob per run (${blobs})`);

  for (const st of await store.listStatuses()) {
    const w = await store.writer({ ref: st.ref });
    const dir = join(root, 'ingest', createHash('sha256').update(st.ref).digest('hex'));
    const onDisk = await readFile(join(dir, 'data'));
    assert.equal((await w.status()).offset, onDisk.length, `${st.ref} resumes at its data's end`);
    assert.equal(w.digest(), digestFromBytes(onDisk), `${st.ref} digest rebuilt`);
    await w.close();
    await store.abort(st.ref);
  }
});
