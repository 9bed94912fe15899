import { RemoteTasks, type AttachStreams, type Connection } from '@ctrd/client';

/** LocalStreams are ctrctl's own stdio, ready to attach to a task, and how to undo raw mode. */
export interface LocalStreams {
  streams: AttachStreams;
  restore(): void;
}

/**
 * localStreams returns ctrctl's stdio for a process; with a terminal, the local tty goes raw
 * and its size follows the process's pty.
 */
export function localStreams(conn: Connection, id: string, execId: string, terminal: boolean): LocalStreams {
  const stdin = process.stdin;
  const raw = terminal && stdin.isTTY;
  let onResize: (() => void) | undefined;
  if (raw) {
    stdin.setRawMode(true);
    const tasks = new RemoteTasks(conn);
    onResize = () => void tasks.resizePty(id, process.stdout.columns ?? 80, process.stdout.rows ?? 24, execId).catch(() => undefined);
    process.stdout.on('resize', onResize);
    setTimeout(onResize, 200).unref();
  }
  return {
    streams: { stdin, stdout: process.stdout, stderr: terminal ? undefined : process.stderr },
    restore() {
      if (raw) stdin.setRawMode(false);
      if (onResize) process.stdout.off('resize', onResize);
      stdin.pause();
      stdin.unref?.();
    },
  };
}

/** exitWith flushes stdout and stderr and exits with `status`, as `ctr run` exits with its task's. */
export async function exitWith(status: number): Promise<void> {
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  await new Promise<void>((r) => process.stderr.write('', () => r()));
  process.exit(status);
}
