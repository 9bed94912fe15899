import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteContentStore } from '@ctrd/client';
import { readBlob, validateDigest, writeBlob } from '@ctrd/content';
import { InvalidArgumentError, isNotFound } from '@ctrd/errdefs';
import type { GlobalArgs } from '../global.js';
import { decimalSize, formatLabels, humanAge, parseLabelArgs } from '../format.js';
import { print, printJSON, table } from '../output.js';
import { eachItem, warn, withConnection } from './common.js';
import { writeOut } from './stdout.js';

/** ContentArgs are the arguments of the `content` subcommands. */
export interface ContentArgs extends GlobalArgs {
  digest?: string;
  digests?: string[];
  ref?: string;
  filters?: string[];
  labels?: string[];
  quiet?: boolean;
  expectedSize?: number;
  expectedDigest?: string;
  editor?: string;
  label?: string[];
}

/** contentLs lists blobs (DIGEST SIZE AGE LABELS). */
export async function contentLs(argv: ContentArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const infos = [];
    for await (const i of new RemoteContentStore(conn).list(argv.filters ?? [])) infos.push(i);
    if (argv.format === 'json') return printJSON(infos);
    if (argv.quiet) return print(infos.map((i) => i.digest).join('\n'));
    const now = Date.now();
    const rows = infos.map((i) => [i.digest, decimalSize(i.size), humanAge(now - i.createdAt.getTime()), formatLabels(i.labels)]);
    print(table([['DIGEST', 'SIZE', 'AGE', 'LABELS'], ...rows]));
  });
}

/** contentGet writes the bytes of each blob to stdout. */
export async function contentGet(argv: ContentArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteContentStore(conn);
    for (const digest of argv.digests ?? []) {
      validateDigest(digest);
      const ra = await store.readerAt({ digest });
      try {
        for await (const chunk of ra.stream(0)) await writeOut(chunk);
      } finally {
        await ra.close();
      }
    }
  });
}

/**
 * contentIngest stores stdin as a blob under ingest `ref`, resuming an earlier partial ingest of
 * the same ref; `--expected-size` and `--expected-digest` are checked at commit, and `--label`s
 * are set on the new blob.
 */
export async function contentIngest(argv: ContentArgs): Promise<void> {
  if (!argv.ref) throw new InvalidArgumentError('must specify a transaction reference');
  if (argv.expectedDigest) validateDigest(argv.expectedDigest);
  await withConnection(argv, async (conn) => {
    const hash = createHash('sha256');
    let size = 0;
    const stdin = (async function* () {
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    })();
    await writeBlob(new RemoteContentStore(conn), argv.ref!, stdin, { digest: argv.expectedDigest ?? '', size: argv.expectedSize ?? 0 }, {
      labels: parseLabelArgs(argv.label ?? []),
    });
    if (argv.format === 'json') printJSON({ ref: argv.ref, digest: argv.expectedDigest || `sha256:${hash.digest('hex')}`, size: argv.expectedSize || size });
  });
}

/** contentActive lists ingests in progress (REF SIZE AGE). */
export async function contentActive(argv: ContentArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const statuses = await new RemoteContentStore(conn).listStatuses(argv.filters ?? []);
    if (argv.format === 'json') return printJSON(statuses);
    const now = Date.now();
    print(table([['REF', 'SIZE', 'AGE'], ...statuses.map((s) => [s.ref, decimalSize(s.offset), humanAge(now - s.startedAt.getTime())])]));
  });
}

/** contentLabel sets (`k=v`) or clears (`k=`) labels of a blob and prints its labels. */
export async function contentLabel(argv: ContentArgs): Promise<void> {
  validateDigest(argv.digest!);
  await withConnection(argv, async (conn) => {
    const store = new RemoteContentStore(conn);
    const labels = parseLabelArgs(argv.labels ?? []);
    const keys = Object.keys(labels);
    const set = Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ''));
    const info = keys.length === 0 ? await store.info(argv.digest!) : await store.update({ digest: argv.digest!, labels: set }, keys.map((k) => `labels.${k}`));
    if (argv.format === 'json') return printJSON(info);
    print(formatLabels(info.labels, ''));
  });
}

/** contentRm deletes blobs, printing each digest deleted; a missing blob only warns. */
export async function contentRm(argv: ContentArgs): Promise<void> {
  await withConnection(argv, async (conn) => {
    const store = new RemoteContentStore(conn);
    await eachItem(
      argv.digests ?? [],
      async (digest) => {
        validateDigest(digest);
        try {
          await store.delete(digest);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          warn(`content ${digest} not found`);
          return;
        }
        print(digest);
      },
      (digest) => `could not delete ${digest}`,
    );
  });
}

function runEditor(editor: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const quoted = `'${path.replaceAll("'", `'\\''`)}'`;
    const child = spawn('sh', ['-c', `${editor} ${quoted}`], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`editor ${JSON.stringify(editor)} failed: ${signal ?? `exit status ${code}`}`)),
    );
  });
}

/**
 * contentEdit opens a copy of a blob in `--editor` ($EDITOR), stores the edited bytes as a new
 * blob and prints its digest.
 */
export async function contentEdit(argv: ContentArgs): Promise<void> {
  validateDigest(argv.digest!);
  const editor = argv.editor || process.env.EDITOR;
  if (!editor) throw new InvalidArgumentError('no editor: set --editor or $EDITOR');
  await withConnection(argv, async (conn) => {
    const store = new RemoteContentStore(conn);
    const dir = await mkdtemp(join(tmpdir(), 'ctrctl-edit-'));
    try {
      const file = join(dir, argv.digest!.replace(':', '-'));
      await writeFile(file, await readBlob(store, { digest: argv.digest! }));
      await runEditor(editor, file);
      const data = await readFile(file);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      // writeBlob resumes or restarts the ingest and treats an existing blob as success.
      await writeBlob(store, `edit-${argv.digest}`, data, { digest, size: data.length });
      if (argv.format === 'json') return printJSON({ digest, size: data.length });
      print(digest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
