/**
 * `@ctrd/log` is ctrd's logging: pino, one root logger per process, and a child logger per
 * plugin carrying its URI. Levels follow containerd's `[debug] level` names (`trace`, `debug`,
 * `info`, `warn`, `error`, `fatal`, `panic`); `panic` maps to pino's `fatal`.
 *
 * @packageDocumentation
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/** Logger is the logging interface every package receives. */
export type Logger = PinoLogger;

/** LogFormat is `[debug] format`: `json` (pino's lines) or `text` (one readable line per entry). */
export type LogFormat = 'json' | 'text';

/** LOG_LEVELS lists the level names the config accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic', 'silent'] as const;

/** LogOptions configures createLogger. */
export interface LogOptions {
  level?: string;
  format?: LogFormat;
  /** destination file descriptor; 2 (stderr) unless given. */
  fd?: number;
}

/** normalizeLevel maps a containerd level name onto pino's and rejects unknown names. */
export function normalizeLevel(level: string): LevelWithSilent {
  const l = level.toLowerCase();
  if (l === 'panic') return 'fatal';
  if (l === 'warning') return 'warn';
  if ((LOG_LEVELS as readonly string[]).includes(l)) return l as LevelWithSilent;
  throw new Error(`unknown log level "${level}"`);
}

function textStream(fd: number): { write(line: string): void } {
  // A small synchronous formatter: `time level msg key=value …`. Kept here so that `text`
  // needs no worker thread (pino-pretty runs as a transport in one).
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        process.stderr.write(line);
        return;
      }
      const { time, level, msg, pid: _pid, hostname: _h, ...rest } = rec;
      const lvl = pino.levels.labels[level as number] ?? String(level);
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
        .join(' ');
      const out = `${new Date(time as number).toISOString()} ${lvl.toUpperCase()} ${msg ?? ''}${fields ? ' ' + fields : ''}\n`;
      if (fd === 1) process.stdout.write(out);
      else process.stderr.write(out);
    },
  };
}

/** createLogger builds the root logger of a process. */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = normalizeLevel(opts.level ?? 'info');
  const fd = opts.fd ?? 2;
  const base = { level, base: { pid: process.pid } };
  if (opts.format === 'text') return pino(base, textStream(fd));
  return pino(base, pino.destination({ fd, sync: false }));
}

/** silentLogger returns a logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
