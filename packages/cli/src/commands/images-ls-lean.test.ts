import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, constants as h2, type ServerHttp2Stream } from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadContentRequest, ReadContentResponse } from '@ctrd/api/gen/containerd/services/content/v1/content.js';
import { ListImagesRequest, ListImagesResponse } from '@ctrd/api/gen/containerd/services/images/v1/images.js';
import { UsageRequest, UsageResponse } from '@ctrd/api/gen/containerd/services/snapshots/v1/snapshots.js';
import { hostPlatform, formatPlatform } from '@ctrd/remotes';
import { imagesLsLean } from './images-ls-lean.js';

const sha = (b: string | Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DIFF = sha('layer');

function frame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** A fake daemon answering Images.List, Content.Read (in two messages) and Snapshots.Usage. */
async function fakeDaemon(dir: string, opts: { usage: number | 'unimplemented' }) {
  const blobs = new Map<string, Buffer>();
  const put = (doc: unknown): { digest: string; size: number } => {
    const data = Buffer.from(JSON.stringify(doc));
    blobs.set(sha(data), data);
    return { digest: sha(data), size: data.length };
  };
  const host = hostPlatform();
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put({ os: host.os, architecture: host.architecture, rootfs: { diff_ids: [DIFF] } }) };
  const manifest = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put({ schemaVersion: 2, config, layers: [{ mediaType: 'x.tar', digest: sha('blob'), size: 5000 }] }) };
  const seen: Array<{ path: string; ns: unknown; request: unknown }> = [];
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('end', () => {
      const path = String(headers[h2.HTTP2_HEADER_PATH]);
      const body = Buffer.concat(chunks).subarray(5);
      const reply = (messages: Uint8Array[], status = 0): void => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(status) }));
        stream.end(Buffer.concat(messages.map(frame)));
      };
      const ns = headers['containerd-namespace'];
      if (path.endsWith('Images/List')) {
        seen.push({ path, ns, request: ListImagesRequest.decode(body) });
        const target = { ...manifest, annotations: {} };
        return reply([ListImagesResponse.encode({ images: [{ name: 'b:1', labels: { z: '1' }, target, createdAt: { seconds: 1, nanos: 0 } }, { name: 'a:1', labels: {}, target }] }).finish()]);
      }
      if (path.endsWith('Content/Read')) {
        const { digest } = ReadContentRequest.decode(body);
        seen.push({ path, ns, request: digest });
        const data = blobs.get(digest);
        if (!data) return reply([], 5);
        const half = data.length >> 1;
        return reply([ReadContentResponse.encode({ offset: 0, data: data.subarray(0, half) }).finish(), ReadContentResponse.encode({ offset: half, data: data.subarray(half) }).finish()]);
      }
      if (path.endsWith('Snapshots/Usage')) {
        seen.push({ path, ns, request: UsageRequest.decode(body) });
        if (opts.usage === 'unimplemented') return reply([], 12);
        return reply([UsageResponse.encode({ size: opts.usage, inodes: 3 }).finish()]);
      }
      reply([], 12);
    });
  });
  const sock = join(dir, `d${opts.usage}.sock`);
  await new Promise<void>((r) => server.listen(sock, r));
  return { sock, seen, blobs, manifest, close: () => server.close() };
}

async function captured(fn: () => Promise<boolean>): Promise<{ ok: boolean; out: string }> {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    return { ok: await fn(), out };
  } finally {
    process.stdout.write = write;
  }
}

test('imagesLsLean lists images, sizes and platforms from List, Read and Usage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrctl-ls-'));
  const d = await fakeDaemon(dir, { usage: 2048 });
  try {
    const argv = { address: `unix://${d.sock}`, namespace: 'ns1', format: 'table' as const, filters: ['name~=.'], snapshotter: 'native' };
    const { ok, out } = await captured(() => imagesLsLean(argv));
    assert.equal(ok, true);
    const lines = out.split('\n');
    assert.match(lines[0]!, /^REF\s+TYPE\s+DIGEST\s+SIZE\s+UNPACKED\s+PLATFORMS\s+LABELS$/);
    const plat = formatPlatform({ os: hostPlatform().os, architecture: hostPlatform().architecture });
    assert.match(lines[1]!, new RegExp(`^b:1\\s+application/vnd\\.oci\\.image\\.manifest\\.v1\\+json\\s+${d.manifest.digest}\\s+\\d+\\.\\d KiB\\s+2 KiB\\s+${plat}\\s+z=1$`));
    assert.match(lines[2]!, /^a:1\s.*\s-$/);
    assert.deepEqual(d.seen[0], { path: '/containerd.services.images.v1.Images/List', ns: 'ns1', request: { filters: ['name~=.'] } });
    // Each blob is read once for both images; Usage goes to the chosen snapshotter.
    const reads = d.seen.filter((s) => s.path.endsWith('Read')).map((s) => s.request);
    assert.equal(reads.length, new Set(reads).size);
    assert.ok(d.seen.some((s) => s.path.endsWith('Usage') && (s.request as { snapshotter: string; key: string }).snapshotter === 'native'));

    const json = await captured(() => imagesLsLean({ ...argv, format: 'json' }));
    const rows = JSON.parse(json.out) as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(rows[0]!), ['name', 'labels', 'target', 'createdAt', 'updatedAt', 'size', 'unpackedSize', 'platforms']);
    assert.equal(rows[0]!.createdAt, '1970-01-01T00:00:01.000Z');
    assert.equal(rows[0]!.unpackedSize, 2048);

    const quiet = await captured(() => imagesLsLean({ ...argv, quiet: true }));
    assert.equal(quiet.out, 'b:1\na:1\n');
  } finally {
    d.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('imagesLsLean leaves the unpacked size unknown without a Snapshots service, and gives up on a missing blob', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctrctl-ls-'));
  const d = await fakeDaemon(dir, { usage: 'unimplemented' });
  try {
    const argv = { address: d.sock, namespace: 'default', format: 'json' as const };
    const { ok, out } = await captured(() => imagesLsLean(argv));
    assert.equal(ok, true);
    assert.deepEqual((JSON.parse(out) as Array<{ unpackedSize: unknown }>).map((r) => r.unpackedSize), [null, null]);

    d.blobs.delete(d.manifest.digest);
    const missing = await captured(() => imagesLsLean(argv));
    assert.deepEqual(missing, { ok: false, out: '' });
    assert.deepEqual(await captured(() => imagesLsLean({ ...argv, address: join(dir, 'absent.sock') })), { ok: false, out: '' });
  } finally {
    d.close();
    await rm(dir, { recursive: true, force: true });
  }
});
