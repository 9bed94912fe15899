import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginType, validateSection } from '@ctrd/plugin';
import { restartMonitorPlugin } from './plugin.js';

test('the plugin is io.containerd.internal.v1.restart with containerd\'s 10s interval', () => {
  assert.equal(restartMonitorPlugin.type, PluginType.Internal);
  assert.equal(restartMonitorPlugin.id, 'restart');
  assert.deepEqual(restartMonitorPlugin.config!.defaults, { interval: '10s' });
  assert.ok(restartMonitorPlugin.requires!.includes(PluginType.RuntimeV2));
  assert.ok(restartMonitorPlugin.requires!.includes(PluginType.Metadata));
});

test('interval must be a duration; unknown keys are refused', () => {
  const { schema, defaults } = restartMonitorPlugin.config!;
  assert.deepEqual(validateSection(schema, defaults, { interval: '250ms' }, 'restart'), { interval: '250ms' });
  assert.throws(() => validateSection(schema, defaults, { interval: 'soon' }, 'restart'));
  assert.throws(() => validateSection(schema, defaults, { intervall: '1s' }, 'restart'));
});
