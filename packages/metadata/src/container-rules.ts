import { InvalidArgumentError } from '@ctrd/errdefs';
import type { Any, Container, ContainerInput } from './containers.js';
import { checkIdentifier, checkLabels, compactMap, mapField, nonEmpty, type FieldAdaptor } from './rules-common.js';

/** ContainerFields are a container's stored fields: a container without its timestamps, all fields set. */
export type ContainerFields = Omit<Container, 'createdAt' | 'updatedAt'>;

/**
 * validateContainer applies containerd's container rules: a valid id, labels within limits, no
 * empty extension key, a runtime name, a spec, and a snapshotter whenever a snapshot key is set.
 */
export function validateContainer(container: ContainerInput): void {
  checkIdentifier('container.ID', container.id);
  for (const k of Object.keys(container.extensions ?? {})) {
    if (k === '') throw new InvalidArgumentError('container.Extension keys must not be zero-length');
  }
  checkLabels('containers.Labels', container.labels);
  if (!container.runtime?.name) throw new InvalidArgumentError('container.Runtime.Name must be set');
  if (!container.spec) throw new InvalidArgumentError('container.Spec must be set');
  if (container.snapshotKey && !container.snapshotter) {
    throw new InvalidArgumentError('container.Snapshotter must be set if container.SnapshotKey is set');
  }
}

/** containerFields fills in a container input's defaults (empty labels, image, snapshotter …). */
export function containerFields(input: ContainerInput): ContainerFields {
  const out: ContainerFields = {
    id: input.id,
    labels: compactMap(input.labels),
    image: input.image ?? '',
    runtime: { name: input.runtime?.name ?? '' },
    snapshotter: input.snapshotter ?? '',
    snapshotKey: input.snapshotKey ?? '',
    extensions: { ...input.extensions },
  };
  if (input.runtime?.options) out.runtime.options = input.runtime.options;
  if (input.spec) out.spec = input.spec;
  return out;
}

/** checkNewContainer validates a container for create, wrapping errors as containerd does. */
export function checkNewContainer(input: ContainerInput): ContainerFields {
  try {
    validateContainer(input);
  } catch (err) {
    throw wrapValidation('create container failed validation', err);
  }
  return containerFields(input);
}

const FULL_UPDATE = ['labels', 'spec', 'extensions', 'image', 'snapshotkey'];

/**
 * applyContainerUpdate returns `current` with the fields of `input` named by `fieldpaths` applied.
 * With no paths it replaces labels, spec, extensions, image and snapshot key, and a changed
 * snapshotter or runtime name is InvalidArgument (they are immutable). An unknown path is
 * InvalidArgument `cannot update "<path>" field on "<id>"`. The result is validated.
 */
export function applyContainerUpdate(current: ContainerFields, input: ContainerInput, fieldpaths?: readonly string[]): ContainerFields {
  let paths = fieldpaths ?? [];
  if (paths.length === 0) {
    paths = FULL_UPDATE;
    if (current.snapshotter !== (input.snapshotter ?? '')) {
      throw new InvalidArgumentError('container.Snapshotter field is immutable');
    }
    if (current.runtime.name !== (input.runtime?.name ?? '')) {
      throw new InvalidArgumentError('container.Runtime.Name field is immutable');
    }
  }
  const next: ContainerFields = { ...current, labels: { ...current.labels }, extensions: { ...current.extensions } };
  for (const path of paths) {
    if (path.startsWith('labels.')) {
      const key = path.slice('labels.'.length);
      next.labels[key] = input.labels?.[key] ?? '';
    } else if (path.startsWith('extensions.')) {
      const key = path.slice('extensions.'.length);
      setOrDelete(next.extensions, key, input.extensions?.[key]);
    } else if (path === 'labels') {
      next.labels = { ...input.labels };
    } else if (path === 'spec') {
      if (input.spec) next.spec = input.spec;
      else delete next.spec;
    } else if (path === 'extensions') {
      next.extensions = { ...input.extensions };
    } else if (path === 'image') {
      next.image = input.image ?? '';
    } else if (path === 'snapshotkey') {
      next.snapshotKey = input.snapshotKey ?? '';
    } else {
      throw new InvalidArgumentError(`cannot update ${JSON.stringify(path)} field on ${JSON.stringify(current.id)}`);
    }
  }
  next.labels = compactMap(next.labels);
  try {
    validateContainer(next);
  } catch (err) {
    throw wrapValidation('update failed validation', err);
  }
  return next;
}

function setOrDelete(map: Record<string, Any>, key: string, value: Any | undefined): void {
  if (value) map[key] = value;
  else delete map[key];
}

function wrapValidation(prefix: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new InvalidArgumentError(`${prefix}: ${message}`, { cause: err });
}

/** adaptContainer exposes a container to filters: `id`, `image`, `runtime.name`, `labels.*`. */
export function adaptContainer(container: Container): FieldAdaptor {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'id':
        return nonEmpty(container.id);
      case 'image':
        return nonEmpty(container.image);
      case 'runtime':
        return fieldpath[1] === 'name' ? nonEmpty(container.runtime.name) : undefined;
      case 'labels':
        return mapField(fieldpath.slice(1), container.labels);
      default:
        return undefined;
    }
  };
}
