import { FailedPreconditionError } from '@ctrd/errdefs';

const kSkip = Symbol.for('ctrd.plugin.skip');

/**
 * SkipPluginError marks a plugin that is deliberately not loaded on this host (no btrfs, no
 * overlay, not configured). It is logged at info and shows as `skip`; its message carries
 * containerd's "skip plugin" text so `ctr plugins ls` shows the same status.
 */
export class SkipPluginError extends FailedPreconditionError {
  readonly [kSkip] = true;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`skip plugin: ${reason}`, options);
  }
  override get name(): string {
    return 'SkipPluginError';
  }
}

/**
 * isSkipPlugin reports a SkipPluginError anywhere in the cause chain. An error from a plugin
 * built without this package counts too when its message starts with containerd's text
 * "skip plugin", which is also what `ctr plugins ls` goes by.
 */
export function isSkipPlugin(err: unknown): boolean {
  const seen = new Set<unknown>();
  let cur = err;
  while (cur !== null && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    if ((cur as { [kSkip]?: boolean })[kSkip]) return true;
    if (cur instanceof Error && cur.message.startsWith('skip plugin')) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}
