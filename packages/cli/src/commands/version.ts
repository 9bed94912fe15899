import { serverVersion } from '@ctrd/client';
import { connection, type GlobalArgs } from '../global.js';
import { print, printJSON } from '../output.js';
import { CLIENT_VERSION } from '../version.js';

/** version prints the client's and the server's version, revision and UUID. */
export async function version(argv: GlobalArgs): Promise<void> {
  const conn = await connection(argv);
  try {
    const server = await serverVersion(conn);
    if (argv.format === 'json') return printJSON({ client: { version: CLIENT_VERSION }, server });
    print(`Client:\n  Version:  ${CLIENT_VERSION}\n\nServer:\n  Version:  ${server.version}\n  Revision: ${server.revision}\n  UUID: ${server.uuid}`);
  } finally {
    conn.close();
  }
}
