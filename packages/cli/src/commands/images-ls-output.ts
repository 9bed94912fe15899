import type { Image } from '@ctrd/metadata';
import { defaultMatcher, parsePlatform, strictMatcher, type PlatformMatcher } from '@ctrd/remotes';
import { formatLabels } from '../format.js';
import type { OutputFormat } from '../output.js';
import { humanSize, print, printJSON, table } from '../output.js';

/** ImageRow is one line of `images ls`: an image with its packed and unpacked sizes and platforms. */
export interface ImageRow {
  img: Image;
  /** undefined when it could not be calculated. */
  size: number | undefined;
  /** undefined when unknown (no Snapshots service, or not resolvable). */
  unpacked: number | undefined;
  /** formatted, deduplicated and sorted. */
  platforms: string[];
}

/** matcherOf is `--platform` matched strictly, or the host's default matcher. */
export function matcherOf(platform: string | undefined): PlatformMatcher {
  return platform ? strictMatcher(parsePlatform(platform)) : defaultMatcher();
}

/** printImageNames prints what `images ls -q` prints: one name a line. */
export function printImageNames(images: readonly Image[]): void {
  print(images.map((i) => i.name).join('\n'));
}

/**
 * printImageRows prints `images ls` as JSON or as ctr's table (REF TYPE DIGEST SIZE PLATFORMS
 * LABELS) with the unpacked size after SIZE. Both ways of listing print through it.
 */
export function printImageRows(rows: readonly ImageRow[], format: OutputFormat): void {
  if (format === 'json') {
    return printJSON(rows.map((r) => ({ ...r.img, size: r.size ?? null, unpackedSize: r.unpacked ?? null, platforms: r.platforms })));
  }
  const header = ['REF', 'TYPE', 'DIGEST', 'SIZE', 'UNPACKED', 'PLATFORMS', 'LABELS'];
  const body = rows.map((r) => [
    r.img.name,
    r.img.target.mediaType,
    r.img.target.digest,
    r.size === undefined ? '-' : humanSize(r.size),
    r.unpacked === undefined ? '-' : humanSize(r.unpacked),
    r.platforms.join(',') || '-',
    formatLabels(r.img.labels),
  ]);
  print(table([header, ...body]));
}
