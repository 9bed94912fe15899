import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { layerTar, randomEntries } from '@ctrd/images/fixtures';
import { createDockerResolver } from '@ctrd/remotes-docker';

/** BlobDesc is an OCI descriptor of one pushed blob. */
export interface BlobDesc {
  mediaType: string;
  digest: string;
  size: number;
}

/** LayeredImage is an image of `layers` equal layers of random data pushed to a registry. */
export interface LayeredImage {
  ref: string;
  layers: number;
  /** the gzip-compressed bytes of all layers together. */
  compressedBytes: number;
  /** every blob of the image: layers, config and manifest. */
  blobs: BlobDesc[];
}

const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const describe = (mediaType: string, bytes: Uint8Array): BlobDesc => ({ mediaType, digest: sha256(bytes), size: bytes.length });

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

/**
 * publishLayeredImage builds an image of `layers` layers, each one file of `totalBytes / layers`
 * seeded random bytes compressed with gzip -1, for the host's platform, and pushes it to
 * `<registry>/bench/layers-<layers>:v1`. Only one layer is held in memory at a time.
 */
export async function publishLayeredImage(registry: string, layers: number, totalBytes: number): Promise<LayeredImage> {
  const ref = `${registry}/bench/layers-${layers}:v1`;
  const resolver = createDockerResolver({ plainHttp: true });
  try {
    const pusher = await resolver.pusher(ref);
    const push = async (desc: BlobDesc, bytes: Uint8Array) => {
      try {
        await pusher.push(desc, bytes);
      } catch (err) {
        // The registry may already hold it (a rerun against the same registry): that is fine.
        if (!/already exists/i.test((err as Error).message)) throw err;
      }
    };
    const each = Math.floor(totalBytes / layers);
    const layerDescs: BlobDesc[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < layers; i++) {
      const tar = layerTar(randomEntries(`layers-${layers}`, i, each));
      diffIds.push(sha256(tar));
      const gz = gzipSync(tar, { level: 1 });
      const desc = describe(LAYER, gz);
      await push(desc, gz);
      layerDescs.push(desc);
    }
    const config = Buffer.from(JSON.stringify({ architecture: goArch(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
    const configDesc = describe(CONFIG, config);
    await push(configDesc, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: configDesc, layers: layerDescs }));
    const manifestDesc = describe(MANIFEST, manifest);
    await push(manifestDesc, manifest);
    return { ref, layers, compressedBytes: layerDescs.reduce((n, l) => n + l.size, 0), blobs: [manifestDesc, configDesc, ...layerDescs] };
  } finally {
    await resolver.close();
  }
}
