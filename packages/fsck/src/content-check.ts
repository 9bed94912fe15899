import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { Findings } from './types.js';

/** ContentState is what the content check learnt, for the metadata check. */
export interface ContentState {
  /** digests of the blobs present (whatever their bytes). */
  blobs: Set<string>;
  /** backend refs of the ingests present. */
  ingests: Set<string>;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function names(dir: string): Promise<string[]> {
  return existsSync(dir) ? readdir(dir) : [];
}

/**
 * checkContent checks the local content store at `dir`: every file under `blobs/sha256` is named
 * by a well-formed digest and its bytes hash to it (error otherwise); a label sidecar without its
 * blob is a leftover of an interrupted commit (warning, removed by repair); each ingest is
 * reported as resumable (info).
 */
export async function checkContent(
  dir: string,
  opts: { repair?: boolean; skipDigests?: boolean },
  checked: Record<string, number>,
): Promise<{ findings: Findings; state: ContentState }> {
  const f = new Findings('content');
  const state: ContentState = { blobs: new Set(), ingests: new Set() };
  if (!existsSync(dir)) return { findings: f, state };
  const blobDir = join(dir, 'blobs', 'sha256');
  for (const name of await names(blobDir)) {
    const path = join(blobDir, name);
    if (!/^[a-f0-9]{64}$/.test(name)) {
      f.add('warning', 'blob-bad-name', path, 'file in blobs/sha256 is not named by a sha256 digest');
      continue;
    }
    const digest = `sha256:${name}`;
    state.blobs.add(digest);
    checked.blobs = (checked.blobs ?? 0) + 1;
    if (opts.skipDigests) continue;
    const actual = await sha256File(path);
    if (actual !== name) f.add('error', 'blob-digest-mismatch', digest, `blob bytes hash to sha256:${actual}`);
  }
  const infoDir = join(dir, 'info', 'sha256');
  for (const name of await names(infoDir)) {
    const m = /^([a-f0-9]{64})\.json$/.exec(name);
    if (!m || state.blobs.has(`sha256:${m[1]}`)) continue;
    const path = join(infoDir, name);
    if (opts.repair) await rm(path, { force: true });
    f.add('warning', 'sidecar-without-blob', path, 'label sidecar of a blob that was never published', opts.repair);
  }
  if (existsSync(join(dir, 'ingest'))) {
    const store = await createLocalStore(dir);
    for (const st of await store.listStatuses()) {
      state.ingests.add(st.ref);
      checked.ingests = (checked.ingests ?? 0) + 1;
      f.add('info', 'ingest-resumable', st.ref, `ingest at offset ${st.offset}${st.total ? ` of ${st.total}` : ''} can be resumed`);
    }
    // Directories the store cannot read as ingests (made but not yet filled when a crash hit).
    for (const name of await names(join(dir, 'ingest'))) {
      const p = join(dir, 'ingest', name);
      if (!(await stat(p)).isDirectory()) continue;
      const ref = await stat(join(p, 'ref')).catch(() => undefined);
      if (ref === undefined || ref.size === 0) {
        if (opts.repair) await rm(p, { recursive: true, force: true });
        f.add('warning', 'ingest-incomplete', p, ref === undefined ? 'ingest directory without a ref file' : 'ingest directory with an empty ref file', opts.repair);
      }
    }
  }
  return { findings: f, state };
}
