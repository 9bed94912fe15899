import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Descriptor } from '@ctrd/remotes';

/** TestBlob is content with its descriptor, for pushing in tests. */
export interface TestBlob {
  desc: Descriptor;
  data: Buffer;
}

/** TestImage is a one-layer image: config, gzipped tar layer, manifest. */
export interface TestImage {
  config: TestBlob;
  layer: TestBlob;
  manifest: TestBlob;
}

/** blob wraps bytes in a descriptor of `mediaType`. */
export function blob(mediaType: string, data: Buffer): TestBlob {
  return { desc: { mediaType, digest: `sha256:${createHash('sha256').update(data).digest('hex')}`, size: data.length }, data };
}

/** makeTestImage builds a tiny OCI image whose layer holds one file with `text`, and a padding file of `pad` bytes. */
export function makeTestImage(text: string, pad = 0): TestImage {
  const dir = mkdtempSync(join(tmpdir(), 'ctrd-layer-'));
  try {
    writeFileSync(join(dir, 'hello.txt'), text);
    if (pad) writeFileSync(join(dir, 'pad.bin'), Buffer.alloc(pad, 7));
    const tar = execFileSync('tar', ['-cz', '--owner=0', '--group=0', '-C', dir, '.']);
    const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', tar);
    const raw = execFileSync('tar', ['-c', '--owner=0', '--group=0', '-C', dir, '.']);
    const diffId = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    const config = blob(
      'application/vnd.oci.image.config.v1+json',
      Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: { Cmd: ['/hello'] } })),
    );
    const manifest = blob(
      'application/vnd.oci.image.manifest.v1+json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: config.desc, layers: [layer.desc] })),
    );
    return { config, layer, manifest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** freePort returns a TCP port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** readAll collects a stream into one buffer. */
export async function readAll(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** hasCommand reports whether `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
