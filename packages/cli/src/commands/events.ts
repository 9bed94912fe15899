import { unpackAny } from '@ctrd/api';
import { RemoteEvents } from '@ctrd/client';
import type { Envelope } from '@ctrd/events';
import type { GlobalArgs } from '../global.js';
import { jsonSafe } from '../format.js';

/** EventsArgs are the arguments of `events`. */
export interface EventsArgs extends GlobalArgs {
  filters?: string[];
  since?: number;
}

/** decodeEvent decodes an envelope's payload, or returns undefined when its type is unknown. */
function decodeEvent(e: Envelope): unknown {
  if (!e.event?.typeUrl) return undefined;
  try {
    return jsonSafe(unpackAny({ typeUrl: e.event.typeUrl, value: Buffer.from(e.event.value) }));
  } catch {
    return undefined;
  }
}

/**
 * eventsCmd prints events as they arrive, one per line, until interrupted: like ctr (timestamp,
 * namespace, topic, payload as JSON) in table format, or one JSON object per line with
 * `--format json`. `--since N` first replays the retained events after sequence N (ctrd's
 * sequenced subscription), and each line then carries its sequence.
 */
export async function eventsCmd(argv: EventsArgs): Promise<void> {
  const { connection } = await import('../global.js');
  const conn = await connection({ ...argv, timeout: undefined });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const stream = new RemoteEvents(conn).subscribe({ filters: argv.filters ?? [], signal: abort.signal, ...(argv.since !== undefined ? { after: argv.since } : {}) });
    for await (const e of stream) {
      const event = decodeEvent(e);
      const line =
        argv.format === 'json'
          ? JSON.stringify({
              ...(e.sequence !== undefined ? { sequence: e.sequence } : {}),
              timestamp: e.timestamp.toISOString(),
              namespace: e.namespace,
              topic: e.topic,
              typeUrl: e.event?.typeUrl ?? '',
              event: event ?? null,
            })
          : [...(e.sequence !== undefined ? [String(e.sequence)] : []), e.timestamp.toISOString(), e.namespace, e.topic, event === undefined ? '' : JSON.stringify(event)].join(' ');
      process.stdout.write(line + '\n');
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    conn.close();
  }
}
