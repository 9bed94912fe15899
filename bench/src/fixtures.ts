import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStore } from '@ctrd/content-local';
import { buildBusyboxImage, findBusybox, writeOciArchive } from '@ctrd/images/fixtures';

/** IMAGE is the name the busybox fixture is imported under on both daemons. */
export const IMAGE = 'docker.io/library/busybox:bench';

/** Fixtures are the inputs the workloads share, built once per run. */
export interface Fixtures {
  /** an OCI archive of the single-layer busybox image, as `ctr images export` writes it. */
  archive: string;
  /** a file of random bytes for the content workloads, with its digest and size. */
  blob: { path: string; digest: string; size: number };
  /** an OCI bundle (rootfs + config.json) whose process is `/bin/true`, for the runc floor. */
  bundle: string;
}

async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    const chunk = 4 << 20;
    for (let done = 0; done < size; done += chunk) {
      const b = randomBytes(Math.min(chunk, size - done));
      hash.update(b);
      await fh.write(b);
    }
  } finally {
    await fh.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

function runcBundle(dir: string): void {
  mkdirSync(join(dir, 'rootfs', 'bin'), { recursive: true });
  copyFileSync(findBusybox(), join(dir, 'rootfs', 'bin', 'busybox'));
  symlinkSync('busybox', join(dir, 'rootfs', 'bin', 'true'));
  const r = spawnSync('runc', ['spec', '--bundle', dir]);
  if (r.status !== 0) throw new Error(`runc spec: ${r.stderr}`);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
}

/** buildFixtures writes the fixtures below `dir`; `blobSize` is the content workloads' size in bytes. */
export async function buildFixtures(dir: string, blobSize: number): Promise<Fixtures> {
  const store = await createLocalStore(join(dir, 'fixture-store'));
  const img = await buildBusyboxImage(store, { layers: 'single', name: IMAGE });
  const archive = join(dir, 'busybox.tar');
  await writeOciArchive(store, img, archive, { name: IMAGE });
  const blobPath = join(dir, 'blob.bin');
  const digest = await randomFile(blobPath, blobSize);
  const bundle = join(dir, 'bundle');
  runcBundle(bundle);
  return { archive, blob: { path: blobPath, digest, size: blobSize }, bundle };
}
