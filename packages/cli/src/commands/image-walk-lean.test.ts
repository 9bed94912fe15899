import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Provider, ReaderAt } from '@ctrd/content';
import { imageChainIds, imagePlatforms, packedSize } from '@ctrd/images';
import { formatPlatform, strictMatcher, type Descriptor, type Platform } from '@ctrd/remotes';
import { leanChainIds, leanImagePlatforms, leanPackedSize, type BlobRead } from './image-walk-lean.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A content store in memory, read both ways: as @ctrd/images' Provider and as a BlobRead. */
class Blobs {
  readonly map = new Map<string, Buffer>();
  put(mediaType: string, doc: unknown, platform?: Platform): Descriptor {
    const data = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    const digest = sha(data.toString('latin1'));
    this.map.set(digest, data);
    return { mediaType, digest, size: data.length, ...(platform ? { platform } : {}) };
  }

  image(arch: string, diffIds = [sha(`${arch}-l1`), sha(`${arch}-l2`)], platform?: Platform): Descriptor {
    const config = this.put(CONFIG, { os: 'linux', architecture: arch, rootfs: { type: 'layers', diff_ids: diffIds } });
    const layers = diffIds.map((_, i) => ({ mediaType: LAYER, digest: sha(`${arch}-blob${i}`), size: 1000 * (i + 1) }));
    return this.put(MANIFEST, { schemaVersion: 2, mediaType: MANIFEST, config, layers }, platform);
  }

  get provider(): Provider {
    return {
      readerAt: async (desc) => {
        const data = this.map.get(desc.digest);
        if (!data) throw new Error(`content digest ${desc.digest}: not found`);
        const readAt = async (buf: Uint8Array, off: number): Promise<number> => data.copy(buf, 0, off);
        return { size: data.length, readAt, close: async () => {} } as unknown as ReaderAt;
      },
    };
  }

  get read(): BlobRead {
    return async (desc) => {
      const data = this.map.get(desc.digest);
      if (!data) throw new Error('missing');
      return data;
    };
  }
}

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function graphs(): Array<{ name: string; blobs: Blobs; target: Descriptor }> {
  const out: Array<{ name: string; blobs: Blobs; target: Descriptor }> = [];
  const add = (name: string, build: (b: Blobs) => Descriptor): void => {
    const blobs = new Blobs();
    out.push({ name, blobs, target: build(blobs) });
  };
  add('manifest', (b) => b.image('amd64'));
  add('index of two platforms, one missing', (b) => {
    const amd = b.image('amd64', undefined, AMD64);
    return b.put(INDEX, { schemaVersion: 2, manifests: [{ mediaType: MANIFEST, digest: sha('gone'), size: 10, platform: ARM64 }, amd] });
  });
  add('index without platforms', (b) => b.put(INDEX, { schemaVersion: 2, manifests: [b.image('arm64'), b.image('amd64')] }));
  add('index of arm64 only', (b) => b.put(INDEX, { schemaVersion: 2, manifests: [b.image('arm64', undefined, ARM64)] }));
  add('nested index', (b) => {
    const inner = b.put(INDEX, { schemaVersion: 2, manifests: [b.image('amd64', undefined, AMD64), b.image('arm64', undefined, ARM64)] });
    return b.put(INDEX, { schemaVersion: 2, manifests: [inner] });
  });
  add('manifest that is not JSON', (b) => b.put(MANIFEST, '{nope'));
  add('manifest that is an index', (b) => b.put(MANIFEST, { schemaVersion: 2, manifests: [] }));
  add('config without diff_ids', (b) => {
    const config = b.put(CONFIG, { os: 'linux', architecture: 'amd64' });
    return b.put(MANIFEST, { schemaVersion: 2, config, layers: [] });
  });
  add('bad diffID', (b) => b.image('amd64', ['sha256:short']));
  add('negative size', (b) => ({ ...b.image('amd64'), size: -1 }));
  add('unknown media type', (b) => b.put('application/octet-stream', {}));
  return out;
}

async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { failed: true }> {
  try {
    return { ok: await p };
  } catch {
    return { failed: true };
  }
}

const formatted = (ps: Platform[]): string[] => [...new Set(ps.map(formatPlatform))].sort();

test('the lean walks agree with @ctrd/images, succeeding and failing on the same images', async () => {
  for (const { name, blobs, target } of graphs()) {
    for (const matcher of [strictMatcher(AMD64), strictMatcher(ARM64)]) {
      const full = blobs.provider;
      assert.deepEqual(await outcome(leanPackedSize(blobs.read, target, matcher)), await outcome(packedSize(full, target, matcher)), `${name}: size`);
      assert.deepEqual(await outcome(leanChainIds(blobs.read, target, matcher)), await outcome(imageChainIds(full, target, matcher)), `${name}: chain IDs`);
    }
    assert.deepEqual(
      await outcome(leanImagePlatforms(blobs.read, target).then(formatted)),
      await outcome(imagePlatforms(blobs.provider, target).then(formatted)),
      `${name}: platforms`,
    );
  }
});

test('the lean walks give the expected answers', async () => {
  const b = new Blobs();
  const amd = b.image('amd64', undefined, AMD64);
  const index = b.put(INDEX, { schemaVersion: 2, manifests: [b.image('arm64', undefined, ARM64), amd] });
  const amdDoc = JSON.parse(b.map.get(amd.digest)!.toString()) as { config: Descriptor };
  assert.equal(await leanPackedSize(b.read, index, strictMatcher(AMD64)), index.size + amd.size + amdDoc.config.size + 1000 + 2000);
  assert.deepEqual(formatted(await leanImagePlatforms(b.read, index)), ['linux/amd64', 'linux/arm64/v8']);
  const chain = await leanChainIds(b.read, index, strictMatcher(AMD64));
  assert.equal(chain[0], sha('amd64-l1'));
  assert.equal(chain[1], sha(`${sha('amd64-l1')} ${sha('amd64-l2')}`));
  await assert.rejects(leanPackedSize(b.read, b.put(INDEX, { schemaVersion: 2, manifests: [] }), strictMatcher(AMD64)), /no match/);
});
