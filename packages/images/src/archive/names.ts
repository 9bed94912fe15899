import { familiarString, parseDockerRef, parseNormalizedNamed, parseReference, tagNameOnly } from '@ctrd/reference';
import type { Descriptor } from '@ctrd/remotes';

/** IMAGE_NAME_ANNOTATION holds a manifest's full image name in an index (containerd's own). */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
/** REF_NAME_ANNOTATION is the OCI reference name: only the tag part of a name. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** normalizeReference gives the full form of a Docker name: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeReference(ref: string): string {
  return parseDockerRef(ref).toString();
}

/** familiarizeReference gives the short Docker form of a name, with a tag: `docker.io/library/busybox` → `busybox:latest`. */
export function familiarizeReference(ref: string): string {
  return familiarString(tagNameOnly(parseNormalizedNamed(ref)));
}

/** ociReferenceName is what follows the repository in `name` (its tag and digest), or `name` itself when it does not parse. */
export function ociReferenceName(name: string): string {
  try {
    return parseReference(name).object;
  } catch {
    return name;
  }
}

/** nameAnnotations returns `base` plus the two name annotations for `name`. */
export function nameAnnotations(name: string, base?: Record<string, string>): Record<string, string> {
  return { ...base, [IMAGE_NAME_ANNOTATION]: name, [REF_NAME_ANNOTATION]: ociReferenceName(name) };
}

function isImagePrefix(s: string, prefix: string): boolean {
  if (!s.startsWith(prefix)) return false;
  return s.length === prefix.length || '/:@'.includes(s.charAt(prefix.length));
}

/** addRefPrefix returns a translator that prefixes a bare tag with `image:` and keeps full names. */
export function addRefPrefix(image: string): (ref: string) => string {
  return (ref) => (/[/:@]/.test(ref) ? ref : `${image}:${ref}`);
}

/** filterRefPrefix is {@link addRefPrefix}, but drops (`''`) full names outside `image`. */
export function filterRefPrefix(image: string): (ref: string) => string {
  return (ref) => {
    if (!/[/:@]/.test(ref)) return `${image}:${ref}`;
    return isImagePrefix(ref, image) ? ref : '';
  };
}

/** digestTranslator names a manifest by digest: `prefix@sha256:…`. */
export function digestTranslator(prefix: string): (digest: string) => string {
  return (digest) => `${prefix}@${digest}`;
}

/**
 * imageNameOf is the image name an index entry carries: its `io.containerd.image.name`, else
 * its OCI ref name passed through `translate`, else `''`.
 */
export function imageNameOf(desc: Descriptor, translate?: (ref: string) => string): string {
  const full = desc.annotations?.[IMAGE_NAME_ANNOTATION];
  if (full) return full;
  const ref = desc.annotations?.[REF_NAME_ANNOTATION];
  if (!ref) return '';
  return translate ? translate(ref) : ref;
}
