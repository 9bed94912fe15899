import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheFile } from '@ctrd/code-cache';

/**
 * CTRD_LAUNCHER is the daemon's launcher, the package's `bin`. Tools that start ctrd with
 * `process.execPath` instead of running this file pass {@link ctrdNodeFlags} and
 * {@link ctrdEnv} themselves.
 */
export const CTRD_LAUNCHER = fileURLToPath(new URL('../bundle/ctrd.js', import.meta.url));

/** LauncherLine is what a launcher's first line (`#!/usr/bin/env -S …`) has env do before node. */
export interface LauncherLine {
  /** variables removed from node's environment (`-u NAME`). */
  unset: string[];
  /** variables set for node (`NAME=value`; `${OTHER}` in a value is OTHER as env found it). */
  set: [name: string, value: string][];
  /** node's own flags. */
  flags: string[];
}

const VAR_NAME = /^[A-Za-z_]\w*$/;
const ASSIGNMENT = /^([A-Za-z_]\w*)=(\S*)$/;
const REFERENCE = /\$\{([A-Za-z_]\w*)\}/g;

/**
 * parseLauncherLine reads a launcher's first line: `#!/usr/bin/env -S`, then any `-u NAME` and
 * `NAME=value`, then `node` and its `--flags`. It throws on any other line, so a changed launcher
 * cannot quietly drop what it sets.
 */
export function parseLauncherLine(line: string): LauncherLine {
  const bad = () => new Error(`launcher: unexpected first line ${JSON.stringify(line)}`);
  const m = /^#!\/usr\/bin\/env -S (.+)$/.exec(line);
  if (!m) throw bad();
  const words = m[1]!.split(' ').filter(Boolean);
  const out: LauncherLine = { unset: [], set: [], flags: [] };
  let i = 0;
  for (; i < words.length && words[i] !== 'node'; i++) {
    const assign = ASSIGNMENT.exec(words[i]!);
    if (words[i] === '-u' && VAR_NAME.test(words[i + 1] ?? '')) out.unset.push(words[++i]!);
    else if (assign) out.set.push([assign[1]!, assign[2]!]);
    else throw bad();
  }
  if (words[i] !== 'node') throw bad();
  out.flags = words.slice(i + 1);
  if (!out.flags.every((f) => /^--\S+$/.test(f))) throw bad();
  return out;
}

/** nodeFlagsOf returns the node flags of a launcher's first line (see {@link parseLauncherLine}). */
export function nodeFlagsOf(firstLine: string): string[] {
  return parseLauncherLine(firstLine).flags;
}

/**
 * launcherEnvOf returns the environment a launcher's first line gives node when started in
 * `env`: as GNU env does, `${NAME}` in a value is expanded from `env`, then `-u` removes and the
 * assignments set.
 */
export function launcherEnvOf(firstLine: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const line = parseLauncherLine(firstLine);
  const values = line.set.map(([k, v]) => [k, v.replace(REFERENCE, (_, n: string) => env[n] ?? '')] as const);
  const out = { ...env };
  for (const name of line.unset) delete out[name];
  for (const [k, v] of values) out[k] = v;
  return out;
}

const firstLineOf = (file: string): string => readFileSync(file, 'latin1').split('\n', 1)[0]!;

/** ctrdNodeFlags are the node flags ctrd runs with; the launcher's first line is their only copy. */
export function ctrdNodeFlags(launcher = CTRD_LAUNCHER): string[] {
  return nodeFlagsOf(firstLineOf(launcher));
}

/**
 * launcherEnv is the environment node gets when `file` (ctrd's launcher, ctrctl's bundle) runs as
 * a program from `env`: the launcher moves `NODE_EXTRA_CA_CERTS` aside, which Node 20 would read
 * and parse at start-up (see `@ctrd/remotes-docker`'s trust).
 */
export function launcherEnv(file: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return launcherEnvOf(firstLineOf(file), env);
}

/** ctrdEnv is the environment ctrd runs with when its launcher is started from `env`. */
export function ctrdEnv(launcher = CTRD_LAUNCHER, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return launcherEnv(launcher, env);
}

/**
 * ctrdCodeCacheFile is the file the launcher keeps V8's code cache of the daemon's bundle in, for
 * the bundle as built now. The first daemon started after a build writes it.
 */
export function ctrdCodeCacheFile(launcher = CTRD_LAUNCHER): string {
  return codeCacheFile(join(dirname(launcher), 'ctrd.cjs'));
}
