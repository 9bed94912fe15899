import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@ctrd/errdefs';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * chainIds returns the chain ID of every prefix of `diffIds`: the first is the first diffID,
 * and each next one is `sha256(<previous chain ID> + " " + <diffID>)`, as the OCI image spec
 * defines them. A malformed diffID is InvalidArgument.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let prev = '';
  for (const d of diffIds) {
    if (!DIGEST.test(d)) throw new InvalidArgumentError(`invalid diffID ${JSON.stringify(d)}`);
    prev = prev === '' ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`;
    out.push(prev);
  }
  return out;
}

/** chainId returns the chain ID of the whole of `diffIds` (`''` for none). */
export function chainId(diffIds: readonly string[]): string {
  return chainIds(diffIds).at(-1) ?? '';
}
