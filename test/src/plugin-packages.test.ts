import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, missingTool } from './harness.js';

async function writePackage(dir: string, name: string, source: string): Promise<void> {
  const pkg = join(dir, 'node_modules', name);
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' }));
  await writeFile(join(pkg, 'index.js'), source);
}

test('plugins from an npm package named in the config load and show in ctr plugins ls', { skip: missingTool('ctr') }, async () => {
  const d = await TestDaemon.create();
  try {
    const dir = join(d.dir, 'plugins');
    await writePackage(dir, 'ctrd-example-plugin', `
export const examplePlugins = [
  { type: 'io.containerd.internal.v1', id: 'example', init: (ic) => { ic.meta.exports.greeting = 'hello'; return {}; } },
  { type: 'io.containerd.internal.v1', id: 'example-skip', init: () => { const e = new Error('skip plugin: not today'); throw e; } },
];
`);
    await writeFile(d.configPath, `plugin_dir = ${JSON.stringify(dir)}\nplugins_packages = ["ctrd-example-plugin"]\n` + (await import('node:fs')).readFileSync(d.configPath, 'utf8'));
    await d.boot();
    const r = d.ctr(['plugins', 'ls', 'type==io.containerd.internal.v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /io\.containerd\.internal\.v1\s+example\s+-\s+ok/);
    assert.match(r.stdout, /io\.containerd\.internal\.v1\s+example-skip\s+-\s+skip/);
    assert.match(d.ctrctl(['plugins', 'ls']).stdout, /example-skip\s+-\s+skip/, 'ctrctl agrees');
  } finally {
    await d.dispose();
  }
});

test('a plugin package that fails to load stops start-up naming it', { skip: missingTool('ctr') }, async () => {
  const d = await TestDaemon.create();
  try {
    const dir = join(d.dir, 'plugins');
    await writePackage(dir, 'ctrd-broken-plugin', `throw new Error('broken on purpose');\n`);
    await writeFile(d.configPath, `plugin_dir = ${JSON.stringify(dir)}\nplugins_packages = ["ctrd-broken-plugin"]\n` + (await import('node:fs')).readFileSync(d.configPath, 'utf8'));
    await d.boot({ wait: false });
    assert.notEqual(await d.exit, 0);
    assert.match(d.output, /ctrd-broken-plugin/);
    assert.match(d.output, /broken on purpose/);
  } finally {
    await d.dispose();
  }
});
