import { InvalidArgumentError } from '@ctrd/errdefs';
import { digestProblem } from './digest.js';
import type { Descriptor, Image, ImageInput } from './images.js';
import { checkLabels, compactMap, mapField, nonEmpty, type FieldAdaptor } from './rules-common.js';

/**
 * validateImage applies containerd's image rules: a non-empty name, labels within limits, and a
 * target with a valid digest, a size above zero and a media type.
 */
export function validateImage(image: ImageInput): void {
  if (!image.name) throw new InvalidArgumentError('image name must not be empty');
  checkLabels('image.Labels', image.labels);
  validateTarget(image.target);
}

function validateTarget(target: Descriptor | undefined): void {
  const digest = target?.digest ?? '';
  const problem = digestProblem(digest);
  if (problem !== undefined) throw new InvalidArgumentError(`Target.Digest ${JSON.stringify(digest)} invalid: ${problem}`);
  if (!target || !(target.size > 0)) throw new InvalidArgumentError('Target.Size must be greater than zero');
  if (!target.mediaType) throw new InvalidArgumentError('Target.MediaType must be set');
}

/** normalizeDescriptor copies a descriptor, dropping empty annotation values and an empty map. */
export function normalizeDescriptor(target: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: target.mediaType, digest: target.digest, size: target.size };
  const annotations = compactMap(target.annotations);
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  return out;
}

/**
 * applyImageUpdate returns `current` with the fields of `input` named by `fieldpaths` applied
 * (all of labels and target when there are none), validated. An unknown path is InvalidArgument
 * `cannot update "<path>" field on image "<name>"`.
 */
export function applyImageUpdate(current: ImageInput, input: ImageInput, fieldpaths?: readonly string[]): ImageInput {
  let labels = { ...current.labels };
  let target: Descriptor = { ...current.target, annotations: { ...current.target.annotations } };
  if (!fieldpaths || fieldpaths.length === 0) {
    labels = { ...input.labels };
    target = { ...input.target, annotations: { ...input.target?.annotations } };
  } else {
    for (const path of fieldpaths) {
      if (path.startsWith('labels.')) {
        const key = path.slice('labels.'.length);
        labels[key] = input.labels?.[key] ?? '';
      } else if (path.startsWith('annotations.')) {
        const key = path.slice('annotations.'.length);
        target.annotations = { ...target.annotations, [key]: input.target?.annotations?.[key] ?? '' };
      } else if (path === 'labels') {
        labels = { ...input.labels };
      } else if (path === 'target') {
        target = { ...input.target, annotations: { ...input.target?.annotations } };
      } else if (path === 'annotations') {
        target.annotations = { ...input.target?.annotations };
      } else {
        throw new InvalidArgumentError(`cannot update ${JSON.stringify(path)} field on image ${JSON.stringify(current.name)}`);
      }
    }
  }
  const updated: ImageInput = { name: current.name, labels: compactMap(labels), target };
  validateImage(updated);
  updated.target = normalizeDescriptor(updated.target);
  return updated;
}

/** adaptImage exposes an image to filters: `name`, `target.digest`, `target.mediatype`, `labels.*`, `annotations.*`. */
export function adaptImage(image: Image): FieldAdaptor {
  return (fieldpath) => {
    switch (fieldpath[0]) {
      case 'name':
        return nonEmpty(image.name);
      case 'target':
        if (fieldpath[1] === 'digest') return nonEmpty(image.target.digest);
        if (fieldpath[1] === 'mediatype') return nonEmpty(image.target.mediaType);
        return undefined;
      case 'labels':
        return mapField(fieldpath.slice(1), image.labels);
      case 'annotations':
        return mapField(fieldpath.slice(1), image.target.annotations);
      default:
        return undefined;
    }
  };
}
