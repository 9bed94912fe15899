/**
 * `@ctrd/code-cache` runs a CommonJS bundle compiled with V8's code cache ({@link runWithCodeCache}):
 * the launchers of the daemon (`ctrd.js`) and of ctrctl (`ctrctl.js`) start their bundles with it.
 *
 * @packageDocumentation
 */
import { isAscii } from 'node:buffer';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

const IMPORT = Symbol.for('ctrd.dynamicImport');

/**
 * dynamicImport is `import(specifier)` for code that may run under {@link runWithCodeCache}
 * (an absolute file URL or a package name; relative specifiers have no base there).
 */
export function dynamicImport<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const viaLoader = (globalThis as Record<symbol, unknown>)[IMPORT] as ((s: string) => Promise<T>) | undefined;
  return viaLoader ? viaLoader(specifier) : (import(specifier) as Promise<T>);
}

/**
 * PREWRAPPED is how a bundle that carries CommonJS's function wrapper itself begins (the
 * daemon's, see scripts/bundle.mjs). Such a file is compiled as it is read; wrapping it here
 * would keep a second copy of its 4 MB source in the heap until the next full collection.
 */
export const PREWRAPPED = '(function (exports, require, module, __filename, __dirname) {';

/** CodeCacheOptions tunes {@link runWithCodeCache}. */
export interface CodeCacheOptions {
  /** false compiles without reading or writing a cache; default true. */
  cache?: boolean;
  /** where cache files live; default `.cache` beside the script. */
  cacheDir?: string;
  /** write the cache this long after the script started (it then holds what start-up compiled); default 1500 ms. */
  writeAfterMs?: number;
}

/** CodeCacheResult says what {@link runWithCodeCache} found. */
export interface CodeCacheResult {
  /** `used`: compiled from the cache; `rejected`: V8 refused it (another Node or flags); `none`: there was none. */
  cache: 'used' | 'rejected' | 'none';
  /** the cache file for this build of the script. */
  file: string;
}

/**
 * runWithCodeCache runs a CommonJS bundle the way `require` would, but compiles it with V8's
 * code cache: Node 20 has no compile cache of its own, and compiling the daemon's bundle is a
 * fifth of its start-up (ctrctl's entry runs the same way). The first run (or one whose cache V8
 * rejects, after a Node upgrade) writes the cache once start-up has compiled what it needs, or at
 * exit if that comes first; later runs skip parsing and compiling those functions.
 *
 * V8 checks a cache against the source only by its length, so each cache file is named after the
 * bundle's size and modification time: a rebuilt bundle never meets the cache of an older one.
 * Caches of older builds are removed when a new one is written. A cache that cannot be read or
 * written (a read-only install) only costs the time it would have saved.
 */
export function runWithCodeCache(file: string, opts: CodeCacheOptions = {}): CodeCacheResult {
  const dir = opts.cacheDir ?? join(dirname(file), '.cache');
  const stem = `${basename(file)}-`;
  const cacheFile = codeCacheFile(file, dir);
  let cachedData: Buffer | undefined;
  try {
    if (opts.cache !== false) cachedData = readFileSync(cacheFile);
  } catch {
    // no cache for this build yet
  }
  const source = readSource(file);
  // V8 takes a leading `#!` line in a script as a comment, so a prewrapped file needs no copy.
  const code = source.startsWith(PREWRAPPED, source.startsWith('#!') ? source.indexOf('\n') + 1 : 0) ? source : Module.wrap(stripShebang(source));
  // Node 20 drops a script's dynamic import() callback when it compiles from a cache, so code
  // inside imports through `dynamicImport`, which this module's own import() serves.
  (globalThis as Record<symbol, unknown>)[IMPORT] = (specifier: string) => import(specifier);
  const script = new Script(code, { filename: file, cachedData });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';

  if (cache !== 'used' && opts.cache !== false) {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      writeCache(script, dir, stem, cacheFile);
    };
    setTimeout(write, opts.writeAfterMs ?? 1500).unref();
    process.once('exit', write);
  }

  const mod = new Module(file);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dirname(file));
  const run = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: Module, filename: string, dirname: string) => void;
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  return { cache, file: cacheFile };
}

/** codeCacheFile names the cache file of `file` as it is now: by its size and modification time. */
export function codeCacheFile(file: string, cacheDir = join(dirname(file), '.cache')): string {
  const st = statSync(file);
  return join(cacheDir, `${basename(file)}-${st.size}-${Math.trunc(st.mtimeMs)}.v8`);
}

function writeCache(script: Script, dir: string, stem: string, cacheFile: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    // Opened before the data is made: where the file cannot be written (ctrctl run by a user
    // from a root-owned install), serializing the cache would be work thrown away at every exit.
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, script.createCachedData());
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, cacheFile);
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name.startsWith(stem) && p !== cacheFile && !name.endsWith('.tmp')) rmSync(p, { force: true });
    }
  } catch {
    // a read-only or full disk: run without a cache
  }
}

function stripShebang(source: string): string {
  return source.startsWith('#!') ? `//${source.slice(2)}` : source;
}

/**
 * readSource reads a script's source. The daemon's bundle is ASCII (scripts/bundle.mjs escapes
 * what esbuild leaves), and an ASCII file read as latin1 is the same string at a tenth of the
 * cost of decoding UTF-8: 1–2 against 14–18 ms for the 4 MB bundle on the development machine.
 * Anything else is decoded as UTF-8.
 */
export function readSource(file: string): string {
  const bytes = readFileSync(file);
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}
