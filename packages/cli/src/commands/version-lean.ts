import type { GlobalArgs } from '../global.js';
import { fieldString, LeanCallError, leanSession, leanUnary } from '../lean-grpc.js';
import { print, printJSON } from '../output.js';
import { CLIENT_VERSION } from '../version.js';

const EMPTY = new Uint8Array(0);

/**
 * versionLean prints what `version` prints, asking the daemon over a lean HTTP/2 connection
 * instead of the full client. It returns false, having printed nothing, when any part of the
 * exchange fails: the caller then runs `version`, which reports the failure in its usual words.
 */
export async function versionLean(argv: GlobalArgs): Promise<boolean> {
  const socket = argv.address.startsWith('unix://') ? argv.address.slice('unix://'.length) : argv.address;
  const timeoutMs = argv.timeout ? argv.timeout * 1000 : 0;
  let session;
  let server;
  try {
    session = await leanSession(socket);
    const [ver, srv] = await Promise.all([
      leanUnary(session, '/containerd.services.version.v1.Version/Version', EMPTY, { timeoutMs }),
      leanUnary(session, '/containerd.services.introspection.v1.Introspection/Server', EMPTY, { timeoutMs }),
    ]);
    server = { version: fieldString(ver, 1), revision: fieldString(ver, 2), uuid: fieldString(srv, 1) };
  } catch (err) {
    if (err instanceof LeanCallError) return false;
    throw err;
  } finally {
    session?.close();
  }
  if (argv.format === 'json') printJSON({ client: { version: CLIENT_VERSION }, server });
  else print(`Client:\n  Version:  ${CLIENT_VERSION}\n\nServer:\n  Version:  ${server.version}\n  Revision: ${server.revision}\n  UUID: ${server.uuid}`);
  return true;
}
