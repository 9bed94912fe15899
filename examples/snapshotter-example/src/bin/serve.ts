#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { serveSnapshotter } from '@ctrd/plugin-sdk';
import { createCopySnapshotter } from '../copy-snapshotter.js';

/**
 * ctrd-snapshotter-example serves the copy snapshotter as containerd's Snapshots service on a
 * unix socket, for ctrd or containerd to load as a proxy plugin:
 *
 *   ctrd-snapshotter-example --root /var/lib/example --address /run/example.sock
 *
 * and in the daemon's config: `[proxy_plugins.example] type = "snapshot", address = "/run/example.sock"`.
 * It prints `listening on <socket>` once the socket answers and stops on SIGTERM or SIGINT.
 */
const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    address: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.root || !values.address) {
  process.stderr.write('usage: ctrd-snapshotter-example --root DIR --address SOCKET\n');
  process.exit(values.help ? 0 : 2);
}
const sn = await createCopySnapshotter(values.root);
const server = await serveSnapshotter(sn, values.address);
process.stdout.write(`listening on ${server.address}\n`);
const stop = async () => {
  await server.close();
  await sn.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
