import { InvalidArgumentError } from '@ctrd/errdefs';
import { validate } from '@ctrd/identifiers';

/**
 * validateTopic throws an `InvalidArgumentError` unless `topic` is a valid event topic: a `/`
 * followed by one or more `/`-separated identifiers (`/tasks/exit`). The messages follow
 * containerd: `must not be empty`, `must start with '/'`, `must have at least one component`,
 * `failed validation on component "x": identifier "x" must match …`.
 */
export function validateTopic(topic: string): void {
  if (topic === '') throw new InvalidArgumentError('must not be empty');
  if (topic[0] !== '/') throw new InvalidArgumentError("must start with '/'");
  if (topic.length === 1) throw new InvalidArgumentError('must have at least one component');
  for (const component of topic.slice(1).split('/')) {
    try {
      validate(component);
    } catch (err) {
      throw new InvalidArgumentError(
        `failed validation on component ${JSON.stringify(component)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
