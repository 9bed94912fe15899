import { createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlreadyExists } from '@ctrd/errdefs';
import { readBlob, type Provider } from '@ctrd/content';
import type { FixtureImage } from '@ctrd/images/fixtures';
import type { Descriptor, Pusher } from '@ctrd/remotes';

/** startRegistry, TestRegistry, freePort and hasCommand are `@ctrd/remotes-docker/testing`'s, re-exported. */
export { freePort, hasCommand, startRegistry, type RegistryTokenAuth, type StartRegistryOptions, type TestRegistry } from '@ctrd/remotes-docker/testing';

/**
 * CountingProxy sits in front of a registry on 127.0.0.1: it counts blob GETs and bytes served
 * per digest, and can corrupt a blob (flip one byte), stall one after some bytes, or slow one.
 */
export class CountingProxy {
  readonly gets = new Map<string, number>();
  readonly served = new Map<string, number>();
  readonly corrupt = new Set<string>();
  /** digest → bytes after which the body stalls until the client goes away. */
  readonly stallAfter = new Map<string, number>();
  /** digest → delay in ms between chunks. */
  readonly slow = new Map<string, number>();
  /** called when a stall point is reached. */
  onStall?: (digest: string) => void;
  #server: Server | undefined;
  addr = '';

  constructor(readonly upstream: string) {}

  async start(): Promise<void> {
    this.#server = createHttpServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.addr = `127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  /** getCount is the number of blob GETs of `digest`. */
  getCount(digest: string): number {
    return this.gets.get(digest) ?? 0;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '');
    const digest = req.method === 'GET' && m ? m[1]! : undefined;
    if (digest) this.gets.set(digest, this.getCount(digest) + 1);
    const headers = { ...req.headers, host: this.upstream };
    const up = request({ host: this.upstream.split(':')[0], port: Number(this.upstream.split(':')[1]), method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      void this.#pipe(ur, res, digest);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  async #pipe(ur: IncomingMessage, res: ServerResponse, digest: string | undefined): Promise<void> {
    let sent = 0;
    let flipped = false;
    res.on('close', () => ur.destroy());
    try {
      for await (const c of ur) {
        let chunk = c as Buffer;
        if (digest && this.corrupt.has(digest) && !flipped && sent + chunk.length > 100) {
          chunk = Buffer.from(chunk);
          const at = Math.max(0, 100 - sent);
          chunk[at] = chunk[at]! ^ 0xff;
          flipped = true;
        }
        const stall = digest ? this.stallAfter.get(digest) : undefined;
        if (stall !== undefined && sent + chunk.length >= stall) {
          res.write(chunk.subarray(0, Math.max(0, stall - sent)));
          this.served.set(digest!, (this.served.get(digest!) ?? 0) + Math.max(0, stall - sent));
          this.onStall?.(digest!);
          return; // leave the response open: the client has to give up
        }
        const delay = digest ? this.slow.get(digest) : undefined;
        if (delay) await sleep(delay);
        if (res.destroyed) return;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        sent += chunk.length;
        if (digest) this.served.set(digest, (this.served.get(digest) ?? 0) + chunk.length);
      }
      res.end();
    } catch {
      res.destroy();
    }
  }
}

/** publishImage pushes a fixture image from `store` through `pusher`: blobs, manifests, then the index. */
export async function publishImage(store: Provider, img: FixtureImage, pusher: Pusher): Promise<void> {
  const push = async (desc: Descriptor, byDigest = false): Promise<void> => {
    try {
      await pusher.push(desc, await readBlob(store, desc), { byDigest });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  };
  for (const l of img.layers) await push(l);
  for (const m of img.manifests) await push(m.configDesc);
  const indexed = img.target.digest !== img.manifests[0]!.desc.digest;
  for (const m of img.manifests) await push({ mediaType: m.desc.mediaType, digest: m.desc.digest, size: m.desc.size }, indexed);
  if (indexed) await push(img.target);
}
