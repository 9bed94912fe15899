import { createDockerResolver, type Credentials } from '@ctrd/remotes-docker';
import { InvalidArgumentError } from '@ctrd/errdefs';
import { parseDockerRef } from '@ctrd/reference';
import type { Descriptor } from '@ctrd/remotes';
import type { GlobalArgs } from '../global.js';
import { writeOut } from './stdout.js';

/** FetchObjectArgs are the options of `ctrctl fetch-object`. */
export interface FetchObjectArgs extends GlobalArgs {
  ref: string;
  digest?: string;
  'plain-http': boolean;
  'hosts-dir'?: string;
  user?: string;
}

function credentials(user: string | undefined): Credentials | undefined {
  if (!user) return undefined;
  const i = user.indexOf(':');
  return { username: i < 0 ? user : user.slice(0, i), password: i < 0 ? '' : user.slice(i + 1) };
}

/**
 * fetchObject resolves `ref` in its registry and writes one object to stdout: the blob or
 * manifest `digest` names, or the resolved root (manifest or index) when none is given. It runs
 * in this process and stores nothing, in the daemon or elsewhere.
 */
export async function fetchObject(argv: FetchObjectArgs): Promise<void> {
  if (argv.digest !== undefined && !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(argv.digest)) {
    throw new InvalidArgumentError(`invalid digest ${JSON.stringify(argv.digest)}`);
  }
  const creds = credentials(argv.user);
  const resolver = createDockerResolver({
    // Left unset unless asked for, so loopback registries keep their plain-HTTP default.
    ...(argv['plain-http'] ? { plainHttp: true } : {}),
    ...(argv['hosts-dir'] ? { hostsDir: argv['hosts-dir'] } : {}),
    ...(creds ? { credentials: () => creds } : {}),
  });
  try {
    const resolved = await resolver.resolve(parseDockerRef(argv.ref).toString());
    // A bare digest carries no media type or size: ask for it as a blob, whatever its size.
    const desc: Descriptor = argv.digest === undefined || argv.digest === resolved.descriptor.digest
      ? resolved.descriptor
      : { mediaType: 'application/octet-stream', digest: argv.digest, size: 0 };
    const body = await resolved.fetcher.fetch(desc);
    for await (const chunk of body) await writeOut(chunk as Uint8Array);
  } finally {
    await resolver.close();
  }
}
