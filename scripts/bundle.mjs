#!/usr/bin/env node
// Bundles the compiled entry points of the two binaries with esbuild, so each starts by reading
// a few files instead of resolving hundreds of ESM modules. It bundles tsc's output, which
// already carries the decorator metadata tsyringe needs (esbuild emits none of its own).
// Commands loaded on demand stay separate chunks (`splitting`). Native addons stay external.
import { build } from 'esbuild';
import { existsSync, readdirSync as listDir, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
// Native addons stay external. proto-loader (and protobufjs under it) is only required by
// grpc-js's channelz and ORCA code paths; left external, it is resolved from node_modules if
// ever used.
const external = ['koffi', 'memory-level', '@grpc/proto-loader'];

// LevelDB's JavaScript (level, classic-level, abstract-level and theirs, ~35 files) is bundled,
// so a daemon start reads it from the bundle's code cache instead of resolving and compiling
// each file (~25 ms). Only classic-level's `binding.js` stays outside: it finds the native
// addon from its own directory, so the bundle requires it through the package.
const nativeBindings = {
  name: 'native-bindings',
  setup(b) {
    b.onResolve({ filter: /^\.\/binding(\.js)?$/ }, (args) =>
      /[\\/]node_modules[\\/]classic-level[\\/]/.test(args.importer) ? { path: 'classic-level/binding.js', external: true } : undefined,
    );
  },
};

/**
 * lazyForGrpcJs makes grpc-js's `require` of a Node module (`zlib`, `http2`) return an object
 * that loads the real one at first use. `constants` are the module's constants grpc-js reads as
 * it loads, answered without loading it; any other constant loads it.
 *
 * The daemon starts with V8 flags (see its launcher), and with any flag V8 rejects the code cache
 * Node ships for its own modules, which are then compiled from source:
 * - grpc-js requires zlib at the top of two modules though it only calls it for a compressed
 *   message, which containerd's clients do not send: ~2 ms of every start before the socket was
 *   bound;
 * - it requires http2 at the top of five, and reads a few header names from its constants there,
 *   though the daemon serves its socket with its own HTTP/2 (`GrpcServer`) and needs node:http2
 *   only for a grpc-js client or server: 23-27 ms of a start, against 7 without the flags. The
 *   header names are HTTP/2's own.
 */
function lazyForGrpcJs(name, constants) {
  const known = constants === undefined ? undefined : JSON.stringify(constants);
  return {
    name: `lazy-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(node:)?${name}$`) }, (args) =>
        /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]/.test(args.importer) ? { path: name, namespace: `lazy-${name}` } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: `lazy-${name}` }, () => ({
        contents: [
          'let real;',
          `const load = () => (real ??= require('node:${name}'));`,
          ...(known === undefined
            ? ['module.exports = new Proxy({}, { get: (_, key) => load()[key] });']
            : [
                `const constants = new Proxy(${known}, { get: (k, key) => (key in k ? k[key] : load().constants[key]) });`,
                "module.exports = new Proxy({}, { get: (_, key) => (key === 'constants' ? constants : load()[key]) });",
              ]),
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

const lazyZlib = lazyForGrpcJs('zlib');
const lazyHttp2 = lazyForGrpcJs('http2', {
  HTTP2_HEADER_AUTHORITY: ':authority',
  HTTP2_HEADER_CONTENT_TYPE: 'content-type',
  HTTP2_HEADER_METHOD: ':method',
  HTTP2_HEADER_PATH: ':path',
  HTTP2_HEADER_STATUS: ':status',
  HTTP2_HEADER_TE: 'te',
  HTTP2_HEADER_USER_AGENT: 'user-agent',
  HTTP_STATUS_OK: 200,
});

// Modules that find files or packages from their own location (koffi through @ctrd/mount, files
// beside a module) see the bundle's, as they do in an ESM bundle.
const IMPORT_META_URL = "const __ctrdImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";

// ctrctl: a small CommonJS entry, `ctrctl.cjs`, with what its quickest commands need; it imports
// the rest, `ctrctl-main.mjs`, an ES module with the commands as lazily imported chunks
// (`splitting`, `.mjs` too), only for other commands. An ES module entry would cost every
// command Node's ESM loader (~5 ms of a ~45 ms `ctrctl version`).
await bundleEsm({ entry: 'packages/cli/dist/bin/ctrctl-main.js', outdir: 'packages/cli/bundle', extension: '.mjs' });
writeFileSync(join(top, 'packages/cli/bundle/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
// The entry is `ctrctl.cjs`, compiled with V8's code cache by the bin `ctrctl.js`
// (ctrctl-launcher.ts), as the daemon's.
if (await bundleCjs({ entry: 'packages/cli/dist/bin/ctrctl.js', outfile: 'packages/cli/bundle/ctrctl.cjs' })) {
  asciiOnly(join(top, 'packages/cli/bundle/ctrctl.cjs'));
  await bundleCjs({ entry: 'packages/cli/dist/bin/ctrctl-launcher.js', outfile: 'packages/cli/bundle/ctrctl.js' });
}

// The shim's two commands, one CommonJS file each. A shim server boots for the first task of a
// namespace and again after it has idled out, and the delete command runs for every shim found
// dead: each start used to resolve and read the package's modules one by one (~100 ms), and as
// ES modules each still paid Node's ESM loader (~5 ms against CommonJS).
for (const name of ['shim-server', 'shim-delete']) {
  await bundleCjs({ entry: `packages/shim/dist/bin/${name}.js`, outfile: `packages/shim/bundle/${name}.cjs` });
  // The ESM bundles of earlier builds.
  rmSync(join(top, `packages/shim/bundle/${name}.js`), { force: true });
}

// ctrd: one CommonJS file, `ctrd.cjs`, which its small entry `ctrd.js` compiles with V8's code
// cache (Node 20 caches no compiled ESM). Its lazy imports stay lazy in evaluation. The entry is
// CommonJS too, by the `package.json` beside it: an ES module entry costs a start Node's ESM
// loader (~7 ms until `ctr version` answers), and the entry's name is what operators and units run.
if (
  await bundleCjs({
    entry: 'packages/daemon/dist/bin/ctrd.js',
    outfile: 'packages/daemon/bundle/ctrd.cjs',
    // Workers found through their package also see the bundle's own location.
    define: { 'import.meta.resolve': '__ctrdImportMetaResolve' },
    // The file carries CommonJS's function wrapper itself, so the launcher compiles it as read
    // (see PREWRAPPED in packages/code-cache/src/index.ts).
    banner: ['(function (exports, require, module, __filename, __dirname) {', IMPORT_META_URL, "const __ctrdImportMetaResolve = (s) => require('node:url').pathToFileURL(require.resolve(s)).href;"],
    footer: '})',
  })
) {
  asciiOnly(join(top, 'packages/daemon/bundle/ctrd.cjs'));
  writeFileSync(join(top, 'packages/daemon/bundle/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  await bundleCjs({ entry: 'packages/daemon/dist/bin/ctrd-launcher.js', outfile: 'packages/daemon/bundle/ctrd.js' });
}

/**
 * asciiOnly rewrites the few non-ASCII characters esbuild leaves in a bundle (in comments, and
 * verbatim in a regular expression) as `\uXXXX` escapes, which mean the same in strings, regular
 * expressions, template literals and identifiers. V8 keeps a source with any non-ASCII
 * character as two bytes per character: for the daemon's bundle 8 MB instead of 4, twice over
 * while its code cache is compiled. A character behind a backslash would change meaning, so it
 * stops the build instead.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) return;
  const escaped = text.replace(/(\\*)([^\x00-\x7f])/g, (_, slashes, c) => {
    if (slashes.length % 2 === 1) throw new Error(`${file}: escaped non-ASCII character ${JSON.stringify(c)}`);
    return `${slashes}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  writeFileSync(file, escaped);
}

/**
 * bundleCjs bundles one entry into one CommonJS file, `import.meta.url` standing for the bundle's
 * own URL. `banner` replaces the default first lines (which must then define it). It reports
 * whether the entry was there to bundle.
 */
async function bundleCjs(t) {
  const entry = join(top, t.entry);
  if (!existsSync(entry)) return false;
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(top, t.outfile),
    external,
    plugins: [nativeBindings, lazyZlib, lazyHttp2],
    define: { 'import.meta.url': '__ctrdImportMetaUrl', ...t.define },
    banner: { js: (t.banner ?? [IMPORT_META_URL]).join('\n') },
    ...(t.footer ? { footer: { js: t.footer } } : {}),
    logLevel: 'warning',
    legalComments: 'none',
  });
  return true;
}

async function bundleEsm(t) {
  const entry = join(top, t.entry);
  if (!existsSync(entry)) return;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: join(top, t.outdir),
    chunkNames: 'chunks/[name]-[hash]',
    ...(t.extension ? { outExtension: { '.js': t.extension } } : {}),
    external,
    plugins: [nativeBindings],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: "import { createRequire as __ctrdCreateRequire } from 'node:module'; const require = __ctrdCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
    metafile: true,
  });
  // Chunk names carry a content hash, so every build leaves the previous ones behind. Those
  // older than an hour go; younger ones may still be imported lazily by a running process.
  const chunks = join(top, t.outdir, 'chunks');
  const current = new Set(Object.keys(result.metafile.outputs).map((f) => resolve(f)));
  for (const name of existsSync(chunks) ? listDir(chunks) : []) {
    const p = join(chunks, name);
    if (!current.has(p) && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
  }
}

// npm links each package's `bin` at install time, before the build has produced it, so the
// files never got their execute bit: set it now on every workspace binary.
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
for (const group of ['packages', 'plugins', 'examples']) {
  if (!existsSync(join(top, group))) continue;
  for (const name of readdirSync(join(top, group))) {
    const pj = join(top, group, name, 'package.json');
    if (!existsSync(pj)) continue;
    const bin = JSON.parse(readFileSync(pj, 'utf8')).bin ?? {};
    for (const rel of Object.values(typeof bin === 'string' ? { x: bin } : bin)) {
      const p = join(top, group, name, rel);
      if (existsSync(p)) chmodSync(p, 0o755);
    }
  }
}
