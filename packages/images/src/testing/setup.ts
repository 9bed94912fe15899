import type { TestContext } from 'node:test';
import type { ContentStore } from '@ctrd/content';
import { createMemoryContent } from '@ctrd/content/testsuite';
import { findBusybox } from '../fixtures/layers.js';

/** memoryStore returns a fresh in-memory content store (one namespace). */
export function memoryStore(): ContentStore {
  return createMemoryContent().namespace('test');
}

/** haveBusybox skips `t` and returns false when no busybox binary is installed. */
export function haveBusybox(t: TestContext): boolean {
  try {
    findBusybox();
    return true;
  } catch {
    t.skip('busybox-static is not installed');
    return false;
  }
}

/** collect drains an async iterable of byte chunks into one Buffer. */
export async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
