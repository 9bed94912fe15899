import { appendFileSync } from 'node:fs';

/** FaultPlan is a parsed `CTRD_FAULT`: the hit number at which each site kills the process. */
export type FaultPlan = ReadonlyMap<string, number>;

/**
 * parseFaultSpec parses a `CTRD_FAULT` value: a comma-separated list of `site:n` (die on the
 * n-th hit of `site`, counting from 1) or bare `site` (the first hit). Malformed entries throw,
 * so a typo in a crash test fails loudly instead of injecting nothing.
 */
export function parseFaultSpec(spec: string): FaultPlan {
  const plan = new Map<string, number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.lastIndexOf(':');
    const site = i < 0 ? part : part.slice(0, i);
    const n = i < 0 ? 1 : Number(part.slice(i + 1));
    if (site === '' || !Number.isInteger(n) || n < 1) throw new Error(`CTRD_FAULT: bad entry ${JSON.stringify(part)} (want site:n, n >= 1)`);
    plan.set(site, n);
  }
  return plan;
}

const plan: FaultPlan | undefined = process.env.CTRD_FAULT ? parseFaultSpec(process.env.CTRD_FAULT) : undefined;
const trace: string | undefined = process.env.CTRD_FAULT_TRACE || undefined;
const active = plan !== undefined || trace !== undefined;
const hits = new Map<string, number>();

function die(site: string, n: number): never {
  if (trace) appendFileSync(trace, `! ${site} ${n}\n`);
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered before the syscall returns; this only guards odd platforms.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/**
 * fault marks a named fault site (one of `FAULT_SITES`). Without `CTRD_FAULT` and
 * `CTRD_FAULT_TRACE` in the environment it only tests one boolean. With `CTRD_FAULT=site:n` the
 * process kills itself with SIGKILL on the n-th hit of `site`; with `CTRD_FAULT_TRACE=<file>`
 * every hit is appended to that file as `<site>` on its own line (and the fatal one as
 * `! <site> <n>`), which survives the kill because each line is written synchronously.
 */
export function fault(site: string): void {
  if (!active) return;
  const n = (hits.get(site) ?? 0) + 1;
  hits.set(site, n);
  if (trace) appendFileSync(trace, `${site}\n`);
  if (plan?.get(site) === n) die(site, n);
}

/** faultHits returns how many times each site was hit in this process (empty unless enabled). */
export function faultHits(): ReadonlyMap<string, number> {
  return new Map(hits);
}

/**
 * readFaultTrace counts the hits recorded in a `CTRD_FAULT_TRACE` file's text, and names the
 * site that killed the process, if one did.
 */
export function readFaultTrace(text: string): { hits: Map<string, number>; killedAt?: { site: string; n: number } } {
  const counts = new Map<string, number>();
  let killedAt: { site: string; n: number } | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('! ')) {
      const [site, n] = line.slice(2).split(' ');
      killedAt = { site: site!, n: Number(n) };
    } else counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return killedAt ? { hits: counts, killedAt } : { hits: counts };
}
