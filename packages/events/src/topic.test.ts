import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '@ctrd/errdefs';
import { validateTopic, TOPICS } from './index.js';

test('every containerd topic is valid', () => {
  for (const topic of Object.values(TOPICS)) assert.doesNotThrow(() => validateTopic(topic), topic);
  assert.doesNotThrow(() => validateTopic('/a'));
  assert.doesNotThrow(() => validateTopic('/my.plugin/some_thing/x-1'));
});

const bad: Array<[string, string]> = [
  ['', 'must not be empty'],
  ['tasks/exit', "must start with '/'"],
  ['/', 'must have at least one component'],
  ['/tasks/', 'failed validation on component "": identifier must not be empty'],
  ['//tasks', 'failed validation on component "": identifier must not be empty'],
  ['/tasks/exit!', 'failed validation on component "exit!": identifier "exit!" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$'],
  [`/${'x'.repeat(77)}`, `failed validation on component "${'x'.repeat(77)}": identifier "${'x'.repeat(77)}" greater than maximum length (76 characters)`],
];

for (const [topic, message] of bad) {
  test(`invalid topic ${JSON.stringify(topic.slice(0, 20))}`, () => {
    assert.throws(
      () => validateTopic(topic),
      (err: unknown) => isInvalidArgument(err) && (err as Error).message === message,
    );
  });
}
