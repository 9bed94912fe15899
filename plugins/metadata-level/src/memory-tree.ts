import { decodeComponent, KEYS, splitChild } from './keys.js';
import type { Child, ReadView } from './kv.js';

const SEP = '\x00';

interface TreeNode {
  /** the raw JSON stored at exactly this key, if any. */
  raw: string | undefined;
  /** the record decoded from `raw`, once something asked for it. */
  value?: unknown;
  /** the components below, by encoded name, in key order (the order the scan delivered them). */
  children: Map<string, TreeNode> | undefined;
}

function newNode(): TreeNode {
  return { raw: undefined, children: undefined };
}

function decoded(n: TreeNode): unknown {
  if (n.raw === undefined) return undefined;
  n.value ??= JSON.parse(n.raw);
  return n.value;
}

/**
 * MemoryTree holds a part of the database read into memory: every key below one prefix, as a tree
 * of key components. Its reads answer synchronously what {@link ReadView}'s answer with a round
 * trip to LevelDB each, in the same order. A collection reads each namespace once this way and
 * then walks the graph in memory. A record is decoded once and the same object handed to every
 * reader: readers must not change it.
 */
export class MemoryTree {
  readonly #root = newNode();
  readonly #nodes = new Map<string, TreeNode>();

  /** add stores one entry; entries must come in key order, as a scan delivers them. */
  add(key: string, raw: string): void {
    let n = this.#root;
    for (const component of key.split(SEP)) {
      n.children ??= new Map();
      let next = n.children.get(component);
      if (next === undefined) {
        next = newNode();
        n.children.set(component, next);
      }
      n = next;
    }
    n.raw = raw;
    this.#nodes.set(key, n);
  }

  /** size is the number of entries held. */
  get size(): number {
    return this.#nodes.size;
  }

  #node(key: string): TreeNode | undefined {
    let n: TreeNode | undefined = this.#root;
    for (const component of key.split(SEP)) {
      n = n.children?.get(component);
      if (n === undefined) return undefined;
    }
    return n;
  }

  /** get returns the record at `key`, or undefined. */
  get<T>(key: string): T | undefined {
    const n = this.#nodes.get(key);
    return n === undefined ? undefined : (decoded(n) as T);
  }

  /**
   * mentions reports whether the record at `key` has `text` anywhere in its JSON: a check that
   * spares decoding the many records that cannot hold what a reader looks for (a label key, say).
   */
  mentions(key: string, text: string): boolean {
    return this.#nodes.get(key)?.raw?.includes(text) === true;
  }

  /** named yields the name and key of each child of `parent` that holds a record, without decoding it. */
  *named(parent: string): Generator<{ name: string; key: string }> {
    const n = this.#node(parent);
    if (n?.children === undefined) return;
    for (const [encoded, child] of n.children) {
      if (child.raw !== undefined) yield { name: decodeComponent(encoded), key: `${parent}${SEP}${encoded}` };
    }
  }

  /** children yields each component directly below `parent` with the record at its key, if any. */
  *children<T>(parent: string): Generator<Child<T>> {
    const n = this.#node(parent);
    if (n?.children === undefined) return;
    for (const [encoded, child] of n.children) {
      yield { name: decodeComponent(encoded), key: `${parent}${SEP}${encoded}`, value: decoded(child) as T | undefined };
    }
  }

  /** records yields only the children of `parent` that hold a record. */
  *records<T>(parent: string): Generator<{ name: string; key: string; value: T }> {
    for (const c of this.children<T>(parent)) {
      if (c.value !== undefined) yield { name: c.name, key: c.key, value: c.value };
    }
  }

  /** descendants yields every key strictly below `parent` that holds a record, in key order, with its raw value. */
  *descendants(parent: string): Generator<[string, string]> {
    const n = this.#node(parent);
    if (n !== undefined) yield* walk(parent, n);
  }
}

function* walk(key: string, n: TreeNode): Generator<[string, string]> {
  if (n.children === undefined) return;
  for (const [encoded, child] of n.children) {
    const childKey = `${key}${SEP}${encoded}`;
    if (child.raw !== undefined) yield [childKey, child.raw];
    yield* walk(childKey, child);
  }
}

/**
 * namespaceTrees reads every namespace's records with one scan (a round trip to LevelDB per
 * thousand entries, not per kind of record) and yields them one namespace at a time, so that only
 * one namespace is held in memory at once.
 */
export async function* namespaceTrees(view: ReadView): AsyncGenerator<{ namespace: string; tree: MemoryTree }> {
  let current: { encoded: string; tree: MemoryTree } | undefined;
  for await (const [key, raw] of view.descendants(KEYS.root)) {
    const { encoded } = splitChild(KEYS.root, key);
    if (current?.encoded !== encoded) {
      if (current !== undefined) yield { namespace: decodeComponent(current.encoded), tree: current.tree };
      current = { encoded, tree: new MemoryTree() };
    }
    current.tree.add(key, raw);
  }
  if (current !== undefined) yield { namespace: decodeComponent(current.encoded), tree: current.tree };
}
