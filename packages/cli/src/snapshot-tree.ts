/** TreeNode is what {@link renderSnapshotTree} needs of a snapshot. */
export interface TreeNode {
  name: string;
  parent?: string;
}

/**
 * renderSnapshotTree draws snapshots as ctr's `snapshots tree` does: each parent-less snapshot
 * at the left, each child two spaces further in behind `\_`, children in the given order.
 * Snapshots whose parent is not listed are drawn as roots.
 */
export function renderSnapshotTree(nodes: readonly TreeNode[]): string {
  const names = new Set(nodes.map((n) => n.name));
  const children = new Map<string, string[]>();
  for (const n of nodes) if (n.parent && names.has(n.parent)) children.set(n.parent, [...(children.get(n.parent) ?? []), n.name]);
  const lines: string[] = [];
  const draw = (name: string, level: number, seen: Set<string>): void => {
    lines.push(`${'  '.repeat(level)}${level > 0 ? '\\_' : ''} ${name}`);
    for (const c of children.get(name) ?? []) if (!seen.has(c)) draw(c, level + 1, new Set([...seen, c]));
  };
  for (const n of nodes) if (!n.parent || !names.has(n.parent)) draw(n.name, 0, new Set([n.name]));
  return lines.length ? lines.join('\n') + '\n' : '';
}
