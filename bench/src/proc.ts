import { readdirSync, readFileSync } from 'node:fs';

/** pidsMatching lists the processes whose NUL-separated command line, joined by spaces, passes `test`. */
export function pidsMatching(test: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (test(cmdline)) pids.push(Number(name));
  }
  return pids;
}

/** rssMiB reads a process's resident set size (VmRSS) in MiB, 0 when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
