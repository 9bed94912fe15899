/**
 * Helpers shared by this package's tests: temporary socket paths and a hand-written message codec
 * shaped like ts-proto output. Not part of the public API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { MessageFns } from './definition.js';

/** Echo is the test message: `message Echo { string text = 1; int32 delay_ms = 2; }`. */
export interface Echo {
  text: string;
  delayMs: number;
}

/** Echo is its codec, in ts-proto's shape. */
export const Echo: MessageFns<Echo> = {
  encode(message: Echo, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
    if (message.text !== '') writer.tag(1, WireType.LengthDelimited).string(message.text);
    if (message.delayMs !== 0) writer.tag(2, WireType.Varint).int32(message.delayMs);
    return writer;
  },
  decode(input: Uint8Array): Echo {
    const r = new BinaryReader(input);
    const out: Echo = { text: '', delayMs: 0 };
    while (r.pos < r.len) {
      const [field, wt] = r.tag();
      if (field === 1 && wt === WireType.LengthDelimited) out.text = r.string();
      else if (field === 2 && wt === WireType.Varint) out.delayMs = r.int32();
      else r.skip(wt, field);
    }
    return out;
  },
};

/** encodeEcho encodes an Echo message to bytes. */
export function encodeEcho(text: string, delayMs = 0): Uint8Array {
  return Echo.encode({ text, delayMs }).finish();
}

/** decodeEcho decodes Echo bytes. */
export function decodeEcho(bytes: Uint8Array): Echo {
  return Echo.decode(bytes);
}

/** TempDir is a scratch directory removed by `dispose()`. */
export interface TempDir {
  path: string;
  socket(name?: string): string;
  dispose(): void;
}

/** tempDir creates a scratch directory for sockets (short, to stay under the sun_path limit). */
export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'ttrpc-'));
  return {
    path,
    socket: (name = 's.sock') => join(path, name),
    dispose: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** sleep resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** waitFor polls `cond` until it holds or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
