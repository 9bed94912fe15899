import type { Connection } from '@ctrd/client';
import type { OutputFormat } from './output.js';

/** GlobalArgs are the options every ctrctl command takes. */
export interface GlobalArgs {
  address: string;
  namespace: string;
  timeout?: number;
  format: OutputFormat;
}

/** connection opens the client connection the global options describe. */
export async function connection(argv: GlobalArgs): Promise<Connection> {
  const { connect } = await import('@ctrd/client');
  return connect(argv.address, { namespace: argv.namespace, timeoutMs: argv.timeout ? argv.timeout * 1000 : 0 });
}
