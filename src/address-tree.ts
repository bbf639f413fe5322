// An ordered map from block address to block size (a treap): insert, remove and "the block at or
// below an address" in O(log n) expected time. The allocator uses it to answer which allocated
// block, if any, contains a given byte range.

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
