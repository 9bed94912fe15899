/**
 * GC_LABELS are the labels through which garbage collection sees references between resources.
 *
 * - `root` on a blob or snapshot keeps it (and what it references) alive with no other reference.
 * - `refContent` (`containerd.io/gc.ref.content`, optionally followed by `.` or `/` and any name)
 *   holds a content digest.
 * - `refSnapshotPrefix` is followed by the snapshotter name (and optionally `/` and any suffix); the
 *   value is a snapshot key in that snapshotter.
 * - `refPrefix` begins both kinds of reference.
 * - `expire` (RFC 3339) on a lease ends its protection at that time.
 * - `flat` on a lease protects only the listed resources, not what they reference.
 */
export const GC_LABELS = {
  root: 'containerd.io/gc.root',
  refContent: 'containerd.io/gc.ref.content',
  refSnapshotPrefix: 'containerd.io/gc.ref.snapshot.',
  refPrefix: 'containerd.io/gc.ref.',
  expire: 'containerd.io/gc.expire',
  flat: 'containerd.io/gc.flat',
} as const;

/** GcLabelRef is one reference found in a label set by {@link gcLabelRefs}. */
export type GcLabelRef =
  | { kind: 'content'; digest: string }
  | { kind: 'snapshot'; snapshotter: string; key: string };

/**
 * gcLabelRefs returns the references a label set holds: every `containerd.io/gc.ref.content`
 * label (bare, or followed by `.`/`/` and a name) and every `containerd.io/gc.ref.snapshot.<snapshotter>`
 * label (the snapshotter name ends at an optional `/`). Other labels are ignored.
 */
export function gcLabelRefs(labels: Readonly<Record<string, string>>): GcLabelRef[] {
  const refs: GcLabelRef[] = [];
  const content = GC_LABELS.refContent;
  const snap = GC_LABELS.refSnapshotPrefix;
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(content)) {
      const sep = k.charAt(content.length);
      if (sep === '' || sep === '.' || sep === '/') refs.push({ kind: 'content', digest: v });
    } else if (k.startsWith(snap)) {
      let snapshotter = k.slice(snap.length);
      const slash = snapshotter.indexOf('/');
      if (slash >= 0) snapshotter = snapshotter.slice(0, slash);
      refs.push({ kind: 'snapshot', snapshotter, key: v });
    }
  }
  return refs;
}

const GC_PREFIX = 'containerd.io/gc.';

/**
 * dropsGcReferences reports whether replacing the labels `before` with `after` can leave some
 * resource unreferenced: a `containerd.io/gc.*` label removed or changed, or one added other than
 * a reference (`gc.ref.*`) or `gc.root`, which only keep more alive. An update for which it is
 * false needs no collection; containerd's scheduler counts only deletions.
 */
export function dropsGcReferences(before: Readonly<Record<string, string>> = {}, after: Readonly<Record<string, string>> = {}): boolean {
  for (const [k, v] of Object.entries(before)) {
    if (k.startsWith(GC_PREFIX) && after[k] !== v) return true;
  }
  for (const k of Object.keys(after)) {
    if (!k.startsWith(GC_PREFIX) || Object.hasOwn(before, k)) continue;
    if (k !== GC_LABELS.root && !k.startsWith(GC_LABELS.refPrefix)) return true;
  }
  return false;
}
