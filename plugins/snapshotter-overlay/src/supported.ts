import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mount, unmountAll } from '@ctrd/mount';

/** overlayInKernel reports whether `/proc/filesystems` lists overlay. */
export function overlayInKernel(): boolean {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

/** supportsIndexOption reports whether the overlay module takes `index=` (and so `index=off`). */
export function supportsIndexOption(): boolean {
  return existsSync('/sys/module/overlay/parameters/index');
}

const PROBE_PREFIX = 'overlay-check-';

/**
 * removeProbeLeftovers detaches and removes the scratch directories of earlier probes under
 * `root`. A daemon killed during a probe leaves its overlay mounted there; the next start sweeps it.
 */
async function removeProbeLeftovers(root: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(PROBE_PREFIX)) continue;
    const td = join(root, name);
    await unmountAll(join(td, 'merged'), { detach: true });
    await rm(td, { recursive: true, force: true });
  }
}

/**
 * VERDICT names the file under the root that records a successful probe: the boot and the
 * root's device it was made on. Within one boot the kernel cannot gain or lose overlay's
 * features (the module's presence is checked on every start), so a start on the same boot and
 * the same filesystem trusts it and mounts nothing. Failures are never recorded.
 */
const VERDICT = 'overlay-supported';

/** probeKey identifies what a probe's verdict holds for, or undefined when the boot is unknown. */
async function probeKey(root: string): Promise<string | undefined> {
  try {
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    return `boot ${boot} dev ${(await stat(root)).dev}\n`;
  } catch {
    return undefined;
  }
}

/**
 * mountProbe tries a real two-layer overlay mount in a scratch directory under `root` and
 * returns why it failed, or undefined when it worked. The scratch directory is always removed.
 */
async function mountProbe(root: string): Promise<string | undefined> {
  const td = await mkdtemp(join(root, PROBE_PREFIX));
  try {
    for (const d of ['lower1', 'lower2', 'upper', 'work', 'merged']) await mkdir(join(td, d));
    const options = [`lowerdir=${join(td, 'lower2')}:${join(td, 'lower1')}`, `upperdir=${join(td, 'upper')}`, `workdir=${join(td, 'work')}`];
    const merged = join(td, 'merged');
    try {
      mount({ type: 'overlay', source: 'overlay', options }, merged);
    } catch (err) {
      return `overlay mount failed on ${root}: ${(err as Error).message}`;
    }
    await unmountAll(merged, { detach: true });
    return undefined;
  } finally {
    await rm(td, { recursive: true, force: true });
  }
}

/**
 * overlayUnsupportedReason returns why overlay cannot be used under `root` (no overlay in the
 * kernel, not root, the backing filesystem refuses), or undefined when it works. It sweeps what
 * earlier probes left, then trusts a verdict recorded on this boot for this filesystem, or
 * else runs `probe` (a real mount by default) and records a success.
 */
export async function overlayUnsupportedReason(root: string, probe: (root: string) => Promise<string | undefined> = mountProbe): Promise<string | undefined> {
  if (!overlayInKernel()) return 'overlay is not listed in /proc/filesystems';
  if (process.getuid?.() !== 0) return 'mounting overlay needs root';
  await mkdir(root, { recursive: true });
  await removeProbeLeftovers(root);
  const key = await probeKey(root);
  const verdict = join(root, VERDICT);
  if (key !== undefined && (await readFile(verdict, 'utf8').catch(() => undefined)) === key) return undefined;
  const reason = await probe(root);
  // The verdict only saves the next start a probe: failing to record it fails nothing.
  if (reason === undefined && key !== undefined) await writeFile(verdict, key).catch(() => {});
  else if (reason !== undefined) await rm(verdict, { force: true }).catch(() => {});
  return reason;
}
