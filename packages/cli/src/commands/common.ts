import type { Connection } from '@ctrd/client';
import { messageWithSuffix } from '@ctrd/errdefs';
import { connection, type GlobalArgs } from '../global.js';

/** warn writes a warning line to stderr, as ctr logs the errors it tolerates. */
export function warn(message: string): void {
  process.stderr.write(`ctrctl: warning: ${message}\n`);
}

/** withConnection opens the connection `argv` describes, runs `fn` on it and closes it. */
export async function withConnection<T>(argv: GlobalArgs, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connection(argv);
  try {
    return await fn(conn);
  } finally {
    conn.close();
  }
}

/**
 * eachItem runs `fn` for each item, carrying on after a failure, and throws the first error
 * once all have run (ctr's exitErr pattern).
 */
export async function eachItem<T>(items: readonly T[], fn: (item: T) => Promise<void>, describe: (item: T) => string): Promise<void> {
  let first: Error | undefined;
  for (const item of items) {
    try {
      await fn(item);
    } catch (err) {
      const message = `${describe(item)}: ${messageWithSuffix(err)}`;
      if (items.length > 1) process.stderr.write(`ctrctl: ${message}\n`);
      first ??= new Error(message, { cause: err });
    }
  }
  if (first) throw first;
}
