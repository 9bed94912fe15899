/** fail reports an error as every ctrctl command does and exits with status 1. */
export function fail(err: unknown): never {
  process.stderr.write(`ctrctl: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
