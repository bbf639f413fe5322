// Structures keyed by block address, for the allocator: an ordered map (a treap) that finds the
// block at or below an address in O(log n) expected time, and a hash map that stays fast when the
// same addresses are removed and added again and again.

interface TreeNode {
  key: number;
  size: number;
  priority: number;
  left: TreeNode | null;
  right: TreeNode | null;
}

/** Blocks by start address; each key at most once. */
export class AddressTree {
  #root: TreeNode | null = null;
  #seed = 0x9e3779b9;

  /** Adds the block `[key, key + size)`; the key must not be present. */
  insert(key: number, size: number): void {
    this.#root = this.#insert(this.#root, { key, size, priority: this.#random(), left: null, right: null });
  }

  /** Removes the block starting at `key` (no-op when absent). */
  remove(key: number): void {
    this.#root = this.#remove(this.#root, key);
  }

  /** The block with the largest start ≤ `address`, or undefined. */
  floor(address: number): { key: number; size: number } | undefined {
    let node = this.#root;
    let best: TreeNode | null = null;
    while (node) {
      if (node.key === address) return node;
      if (node.key < address) {
        best = node;
        node = node.right;
      } else node = node.left;
    }
    return best ?? undefined;
  }

  #random(): number {
    // xorshift32: deterministic priorities, so allocation never depends on Math.random.
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }

  #insert(root: TreeNode | null, node: TreeNode): TreeNode {
    if (!root) return node;
    if (node.key < root.key) {
      root.left = this.#insert(root.left, node);
      if (root.left.priority > root.priority) return rotateRight(root);
    } else {
      root.right = this.#insert(root.right, node);
      if (root.right.priority > root.priority) return rotateLeft(root);
    }
    return root;
  }

  #remove(root: TreeNode | null, key: number): TreeNode | null {
    if (!root) return null;
    if (key < root.key) root.left = this.#remove(root.left, key);
    else if (key > root.key) root.right = this.#remove(root.right, key);
    else return merge(root.left, root.right);
    return root;
  }
}

function rotateRight(node: TreeNode): TreeNode {
  const left = node.left!;
  node.left = left.right;
  left.right = node;
  return left;
}

function rotateLeft(node: TreeNode): TreeNode {
  const right = node.right!;
  node.right = right.left;
  right.left = node;
  return right;
}

/** Joins two treaps whose keys are all smaller (a) than all of (b). */
function merge(a: TreeNode | null, b: TreeNode | null): TreeNode | null {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return a;
  }
  b.left = merge(a, b.left);
  return b;
}

/**
 * A Map from address to value whose removed keys stay as empty entries until they outnumber the
 * live ones (then the map is rebuilt). V8's Map keeps a deleted entry in its bucket's chain until
 * the next rehash, so deleting and re-adding one key over and over (a block freed and allocated
 * again in a loop) makes every lookup of that key slower; overwriting an entry does not.
 */
export class AddressMap<V> {
  #map = new Map<number, V | undefined>();
  #live = 0;

  /** The value at `key`, or undefined. */
  get(key: number): V | undefined {
    return this.#map.get(key);
  }

  /** Sets `key` to `value` (never undefined). */
  set(key: number, value: V): void {
    if (this.#map.get(key) === undefined) this.#live++;
    this.#map.set(key, value);
  }

  /** Removes `key` (no-op when absent). */
  delete(key: number): void {
    if (this.#map.get(key) === undefined) return;
    this.#live--;
    this.#map.set(key, undefined);
    if (this.#map.size > 2 * this.#live + 1024) {
      const live = new Map<number, V | undefined>();
      for (const [k, v] of this.#map) if (v !== undefined) live.set(k, v);
      this.#map = live;
    }
  }

  /** Number of keys present. */
  get size(): number {
    return this.#live;
  }

  /** The present entries, in no particular order. */
  *entries(): IterableIterator<[number, V]> {
    for (const [k, v] of this.#map) if (v !== undefined) yield [k, v];
  }
}

/** Blocks by address: set, delete, and "does one block contain this range", each O(log n) or better. */
export class AddressIndex {
  readonly #sizes = new AddressMap<number>();
  readonly #ordered = new AddressTree();

  /** Adds the block [ptr, ptr + bytes); `ptr` must not be present. */
  set(ptr: number, bytes: number): void {
    this.#sizes.set(ptr, bytes);
    this.#ordered.insert(ptr, bytes);
  }

  /** Size of the block at `ptr`, or undefined. */
  get(ptr: number): number | undefined {
    return this.#sizes.get(ptr);
  }

  /** Removes the block at `ptr` (no-op when absent). */
  delete(ptr: number): void {
    if (this.#sizes.get(ptr) === undefined) return;
    this.#sizes.delete(ptr);
    this.#ordered.remove(ptr);
  }

  /** True when [start, start + bytes) lies inside one block. */
  contains(start: number, bytes: number): boolean {
    const exact = this.#sizes.get(start);
    if (exact !== undefined) return bytes <= exact;
    const below = this.#ordered.floor(start);
    return below !== undefined && start + bytes <= below.key + below.size;
  }
}
