import type { Descriptor, Platform } from '@ctrd/remotes';

/**
 * goJson serialises `value` as Go's encoding/json does for the same data: no spaces, and `<`,
 * `>`, `&`, U+2028 and U+2029 escaped. Key order is the caller's (build objects in struct
 * order, maps sorted), so the bytes, and so the digests, match what containerd would write.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortedMap(m: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!m || Object.keys(m).length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

function goPlatform(p: Platform): Record<string, unknown> {
  const out: Record<string, unknown> = { architecture: p.architecture, os: p.os };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']?.length) out['os.features'] = p['os.features'];
  if (p.variant) out.variant = p.variant;
  return out;
}

/** goDescriptor orders a descriptor's fields as the OCI Go types declare them, dropping empty ones. */
export function goDescriptor(d: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (d.mediaType) out.mediaType = d.mediaType;
  out.digest = d.digest;
  out.size = d.size;
  if (d.urls?.length) out.urls = d.urls;
  const ann = sortedMap(d.annotations);
  if (ann) out.annotations = ann;
  if (d.platform) out.platform = goPlatform(d.platform);
  if (d.artifactType) out.artifactType = d.artifactType;
  return out;
}

/** goIndex returns the bytes of an OCI index holding `manifests`, as containerd writes one. */
export function goIndex(manifests: readonly Descriptor[]): Buffer {
  return Buffer.from(goJson({ schemaVersion: 2, manifests: manifests.map(goDescriptor) }));
}
