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

/**
 * nodeId names a node regardless of how it was reached (flat or not). The fields before the key
 * cannot be confused with one another: the type is one of four words, a namespace name has no NUL
 * and the snapshotter name is preceded by its length.
 */
export function nodeId(n: GcNode): string {
  const sn = n.snapshotter ?? '';
  return `${n.type}\x00${n.namespace}\x00${sn.length}:${sn}\x00${n.key}`;
}

/**
 * tricolor marks everything reachable from `roots`: grey nodes wait on a stack, each one is
 * blackened after `refs` has pushed its unseen references. A node seen flat and later reached
 * normally is visited again, so its references are followed then; a node already followed
 * normally is not visited flat. Returns the ids of the black set.
 */
export function tricolor(roots: readonly GcNode[], refs: (n: GcNode) => GcNode[]): Set<string> {
  const black = new Set<string>();
  const followed = new Set<string>();
  const unseen = (n: GcNode, id: string) => !followed.has(id) && !(n.flat && black.has(id));
  const grey: Array<[GcNode, string]> = roots.map((n) => [n, nodeId(n)]);
  while (grey.length > 0) {
    const [node, id] = grey.pop()!;
    if (!unseen(node, id)) continue;
    black.add(id);
    if (!node.flat) followed.add(id);
    for (const next of refs(node)) {
      const nextId = nodeId(next);
      if (unseen(next, nextId)) grey.push([next, nextId]);
    }
  }
  return black;
}
