/**
 * GcNode is one resource in the collection graph. `flat` marks a node reached through a
 * `containerd.io/gc.flat` lease: its own references (labels) are not followed, though a
 * snapshot's parent still is.
 */
export interface GcNode {
  type: 'content' | 'snapshot' | 'ingest' | 'lease';
  namespace: string;
  /** the digest, ingest ref, lease id, or snapshot key. */
  key: string;
  /** the snapshotter, for snapshots. */
  snapshotter?: string;
  flat?: boolean;
}

/** nodeId names a node regardless of how it was reached (flat or not). */
export function nodeId(n: GcNode): string {
  return JSON.stringify([n.type, n.namespace, n.snapshotter ?? '', n.key]);
}

/**
 * tricolor marks everything reachable from `roots`: grey nodes wait on a stack, each one is
 * blackened after `refs` has pushed its unseen references. A node seen flat and later reached
 * normally is visited again, so its references are followed then. Returns the ids of the black set.
 */
export async function tricolor(roots: readonly GcNode[], refs: (n: GcNode) => Promise<GcNode[]>): Promise<Set<string>> {
  const seen = new Set<string>();
  const black = new Set<string>();
  const grey: GcNode[] = [...roots];
  while (grey.length > 0) {
    const node = grey.pop()!;
    const seenId = `${node.flat ? 'f' : 'n'}${nodeId(node)}`;
    if (seen.has(seenId)) continue;
    seen.add(seenId);
    for (const next of await refs(node)) {
      if (!seen.has(`${next.flat ? 'f' : 'n'}${nodeId(next)}`)) grey.push(next);
    }
    black.add(nodeId(node));
  }
  return black;
}
