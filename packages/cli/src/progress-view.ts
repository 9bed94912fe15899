import cliProgress from 'cli-progress';
import { BlobState, type Progress } from '@ctrd/client';
import { humanDuration, humanSize } from './output.js';

const STATE_NAMES: Record<number, string> = {
  [BlobState.WAITING]: 'waiting',
  [BlobState.DOWNLOADING]: 'downloading',
  [BlobState.UNPACKING]: 'unpacking',
  [BlobState.DONE]: 'done',
  [BlobState.EXISTS]: 'exists',
  [BlobState.UPLOADING]: 'uploading',
};

interface BlobView {
  name: string;
  state: number;
  offset: number;
  total: number;
  bar?: cliProgress.SingleBar;
  /** first offset seen while transferring and when, for the speed. */
  start?: { offset: number; at: number };
}

function shortName(mediaType: string, digest: string): string {
  const kind = /manifest|index|list/.test(mediaType) ? 'manifest' : /config/.test(mediaType) ? 'config' : 'layer';
  return `${kind}-${digest.replace(/^sha256:/, '').slice(0, 12)}`;
}

function speed(b: BlobView): string {
  if (!b.start || b.state !== BlobState.DOWNLOADING && b.state !== BlobState.UPLOADING) return '';
  const secs = (Date.now() - b.start.at) / 1000;
  if (secs <= 0.2) return '';
  return `${humanSize(Math.round((b.offset - b.start.offset) / secs))}/s`;
}

/**
 * ProgressView renders a transfer's progress: on a TTY one bar per blob (waiting, downloading
 * with bytes and speed, unpacking, done) and a summary line; elsewhere one plain line per state
 * change and the same summary.
 */
export class ProgressView {
  readonly #tty: boolean;
  readonly #blobs = new Map<string, BlobView>();
  readonly #multi: cliProgress.MultiBar | undefined;
  readonly #started = Date.now();
  #summary = '';

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#tty = out.isTTY === true;
    if (this.#tty) {
      this.#multi = new cliProgress.MultiBar(
        {
          format: '{name} {state} |{bar}| {sizes} {speed}',
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          barsize: 30,
          autopadding: true,
          stream: out,
          formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? String(v) : String(v)),
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /** update applies one progress message. */
  update(p: Progress): void {
    if (p.blob) {
      const { digest, mediaType, state, offset, total } = p.blob;
      let b = this.#blobs.get(digest);
      const changed = !b || b.state !== state;
      if (!b) {
        b = { name: shortName(mediaType, digest), state, offset, total };
        this.#blobs.set(digest, b);
        if (this.#multi) b.bar = this.#multi.create(Math.max(total, 1), 0, this.#payload(b));
      }
      b.state = state;
      b.offset = offset;
      b.total = total;
      if ((state === BlobState.DOWNLOADING || state === BlobState.UPLOADING) && !b.start) b.start = { offset, at: Date.now() };
      if (b.bar) {
        const shown = state === BlobState.DONE || state === BlobState.EXISTS || state === BlobState.UNPACKING ? total : offset;
        b.bar.update(shown, this.#payload(b));
      } else if (changed) {
        process.stdout.write(`${b.name}: ${STATE_NAMES[state] ?? state} (${humanSize(total)})\n`);
      }
    } else if (p.image?.target) {
      this.#summary = `${p.image.name}: ${p.image.target.digest}`;
    } else if (p.done) {
      const elapsed = humanDuration(Number(p.done.elapsedMs) || Date.now() - this.#started);
      const sizes = `${humanSize(Number(p.done.transferred))} transferred of ${humanSize(Number(p.done.total))}`;
      this.#summary = [this.#summary, `done: ${elapsed}, ${sizes}`].filter((s) => s).join('\n');
    }
  }

  #payload(b: BlobView): Record<string, string> {
    return {
      name: b.name,
      state: (STATE_NAMES[b.state] ?? String(b.state)).padEnd(11),
      sizes: `${humanSize(b.offset)}/${humanSize(b.total)}`,
      speed: speed(b),
    };
  }

  /** finish stops the bars and prints the summary. */
  finish(): void {
    this.#multi?.stop();
    if (this.#summary) process.stdout.write(`${this.#summary}\n`);
  }

  /** abort stops the bars without a summary. */
  abort(): void {
    this.#multi?.stop();
  }
}
