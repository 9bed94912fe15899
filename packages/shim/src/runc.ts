import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UnknownError } from '@ctrd/errdefs';
import type { Reaper, RunResult } from './reaper.js';

/** RuncConfig is how the shim calls runc for one task. */
export interface RuncConfig {
  /** runc binary (default `runc`). */
  binary: string;
  /** `--root`: runc's state directory. */
  root: string;
  /** `--log`: runc's JSON log, `<bundle>/log.json`. */
  log?: string;
  systemdCgroup?: boolean;
  /** `--criu`: the criu binary. */
  criu?: string;
}

/** CreateArgs are the options of `runc create` and `runc restore`. */
export interface CreateArgs {
  bundle: string;
  pidFile: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
}

/**
 * PROCESS_FD3 is the path of a process spec handed to `runc exec` through a pipe on its fd 3
 * (`Runc.run`'s `fd3`): runc opens the path it is given and decodes the JSON it reads there.
 */
export const PROCESS_FD3 = '/proc/self/fd/3';

/** ExecArgs are the options of `runc exec`. */
export interface ExecArgs {
  processFile: string;
  pidFile: string;
  consoleSocket?: string;
}

/** CriuArgs are the CRIU options shared by `runc checkpoint` and `runc restore`. */
export interface CriuArgs {
  imagePath: string;
  workPath?: string;
  parentPath?: string;
  openTcp?: boolean;
  externalUnixSockets?: boolean;
  terminal?: boolean;
  fileLocks?: boolean;
  emptyNamespaces?: readonly string[];
  cgroupsMode?: string;
}

/** CheckpointArgs are the options of `runc checkpoint`. */
export interface CheckpointArgs extends CriuArgs {
  /** Stop the container after dumping it (otherwise `--leave-running`). */
  exit?: boolean;
}

/** RuncCommands builds runc command lines; every method returns the full argument vector. */
export class RuncCommands {
  constructor(readonly config: RuncConfig) {}

  /** global returns the flags every call starts with. */
  global(): string[] {
    const out = ['--root', this.config.root];
    if (this.config.log !== undefined) out.push('--log', this.config.log, '--log-format', 'json');
    if (this.config.criu) out.push('--criu', this.config.criu);
    if (this.config.systemdCgroup) out.push('--systemd-cgroup');
    return out;
  }

  create(id: string, a: CreateArgs): string[] {
    return [...this.global(), 'create', '--bundle', a.bundle, '--pid-file', a.pidFile, ...createFlags(a), id];
  }

  start(id: string): string[] {
    return [...this.global(), 'start', id];
  }

  exec(id: string, a: ExecArgs): string[] {
    const out = [...this.global(), 'exec', '--process', a.processFile, '--detach', '--pid-file', a.pidFile];
    if (a.consoleSocket !== undefined) out.push('--console-socket', a.consoleSocket);
    return [...out, id];
  }

  kill(id: string, signal: number, all: boolean): string[] {
    return [...this.global(), 'kill', ...(all ? ['--all'] : []), id, String(signal)];
  }

  delete(id: string, force: boolean): string[] {
    return [...this.global(), 'delete', ...(force ? ['--force'] : []), id];
  }

  pause(id: string): string[] {
    return [...this.global(), 'pause', id];
  }

  resume(id: string): string[] {
    return [...this.global(), 'resume', id];
  }

  ps(id: string): string[] {
    return [...this.global(), 'ps', '--format', 'json', id];
  }

  update(id: string): string[] {
    return [...this.global(), 'update', '--resources', '-', id];
  }

  checkpoint(id: string, a: CheckpointArgs): string[] {
    const out = [...this.global(), 'checkpoint', ...criuFlags(a)];
    if (!a.exit) out.push('--leave-running');
    return [...out, id];
  }

  restore(id: string, a: CreateArgs & CriuArgs): string[] {
    return [
      ...this.global(), 'restore', '--detach', '--pid-file', a.pidFile, ...createFlags(a), ...criuFlags(a),
      '--bundle', a.bundle, id,
    ];
  }
}

function createFlags(a: CreateArgs): string[] {
  const out: string[] = [];
  if (a.consoleSocket !== undefined) out.push('--console-socket', a.consoleSocket);
  if (a.noPivot) out.push('--no-pivot');
  if (a.noNewKeyring) out.push('--no-new-keyring');
  return out;
}

function criuFlags(a: CriuArgs): string[] {
  const out = ['--image-path', a.imagePath];
  if (a.workPath) out.push('--work-path', a.workPath);
  if (a.parentPath) out.push('--parent-path', a.parentPath);
  if (a.openTcp) out.push('--tcp-established');
  if (a.externalUnixSockets) out.push('--ext-unix-sk');
  if (a.terminal) out.push('--shell-job');
  if (a.fileLocks) out.push('--file-locks');
  if (a.cgroupsMode) out.push('--manage-cgroups-mode', a.cgroupsMode);
  for (const ns of a.emptyNamespaces ?? []) out.push('--empty-ns', ns);
  return out;
}

/**
 * Runc runs the commands {@link RuncCommands} builds, through the {@link Reaper} so their exits
 * stay Node's; a failure becomes an error carrying runc's last logged message.
 */
export class Runc extends RuncCommands {
  constructor(config: RuncConfig, private readonly reaper: Reaper) {
    super(config);
  }

  /**
   * run executes `args`. Only stderr is captured unless `output` asks for stdout too: every other
   * command's stdout goes to /dev/null, which spares a pipe and its reader per command. `stdio`
   * overrides both. `fd3` is written to a pipe runc reads as fd 3 ({@link PROCESS_FD3}).
   */
  async run(
    args: string[],
    opts: { input?: string; output?: boolean; stdio?: (number | 'ignore' | 'pipe')[]; fd3?: string } = {},
  ): Promise<RunResult> {
    const logStart = this.logSize();
    const stdio = opts.stdio ?? [opts.input === undefined ? 'ignore' : 'pipe', opts.output === true ? 'pipe' : 'ignore', 'pipe'];
    const result = await this.reaper.run(this.config.binary, args, { input: opts.input, stdio, fd3: opts.fd3 });
    if (result.code !== 0) {
      const verb = args[this.global().length] ?? '';
      const detail = (await this.lastLogError(logStart)) || result.stderr.trim() || `exit status ${result.code}`;
      throw new UnknownError(detail.startsWith(`runc ${verb} failed`) ? detail : `runc ${verb} failed: ${detail}`);
    }
    return result;
  }

  // Synchronous on purpose: one stat of a local file costs less than the thread-pool round trip
  // an asynchronous one adds in front of every runc call.
  private logSize(): number {
    if (this.config.log === undefined) return 0;
    try {
      return statSync(this.config.log, { throwIfNoEntry: false })?.size ?? 0;
    } catch {
      return 0;
    }
  }

  /** lastLogError returns the last error message runc logged past byte `from` of its JSON log, or `''`. */
  async lastLogError(from = 0): Promise<string> {
    if (this.config.log === undefined) return '';
    let text: string;
    try {
      text = (await readFile(this.config.log)).subarray(from).toString('utf8');
    } catch {
      return '';
    }
    let msg = '';
    for (const line of text.split('\n')) {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        if (entry.level === 'error' && entry.msg) msg = entry.msg;
      } catch {
        // runc may leave a partial last line
      }
    }
    return msg;
  }
}
