import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { ForensicsError } from '../errors.js';

/**
 * Merkle Tree Hash exactly as RFC 9162 §2.1 (Certificate Transparency v2): SHA-256, leaf hash
 * SHA-256(0x00 || d), interior node SHA-256(0x01 || left || right), the tree over n > 1 leaves
 * split at k, the largest power of two smaller than n. The 0x00/0x01 prefixes separate leaf and
 * node domains so an interior node can never be passed off as a leaf (second-preimage attacks).
 * Everything below works on 32-byte leaf *hashes*; `leafHash` turns leaf data into one.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
const HASH_SIZE = 32;

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/**
 * One-shot SHA-256 (`crypto.hash`, Node ≥ 20.12): a tree costs one hash per leaf and per node,
 * and a one-shot call skips building a Hash object each time. Older Node uses createHash.
 */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'buffer') => Buffer }).hash;

export function sha256(data: string | Uint8Array): Buffer {
  return oneShot ? oneShot('sha256', data, 'buffer') : createHash('sha256').update(data).digest();
}

export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** 0x01 ‖ left ‖ right, reused: nodes are hashed one at a time. */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return sha256(NODE_INPUT);
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ForensicsError('invalid_argument', `${what} must be a non-negative integer`);
}

function rootOf(hashes: readonly Uint8Array[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return Buffer.from(hashes[start]!);
  const k = splitPoint(n);
  return nodeHash(rootOf(hashes, start, start + k), rootOf(hashes, start + k, end));
}

/** MTH(D[n]) over already-computed leaf hashes. */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Buffer {
  return rootOf(leafHashes, 0, leafHashes.length);
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path for leaf `index`, leaf-side first. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Buffer[] {
  checkSize(index, 'index');
  if (index >= leafHashes.length) {
    throw new ForensicsError('invalid_argument', `leaf index ${index} is outside a tree of ${leafHashes.length} leaves`);
  }
  const path: Buffer[] = [];
  const walk = (start: number, end: number, m: number): void => {
    const n = end - start;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(start, start + k, m);
      path.push(rootOf(leafHashes, start + k, end));
    } else {
      walk(start + k, end, m - k);
      path.push(rootOf(leafHashes, start, start + k));
    }
  };
  walk(0, leafHashes.length, index);
  return path;
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: proves the first `oldSize` leaves' tree is a prefix. */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number): Buffer[] {
  checkSize(oldSize, 'oldSize');
  const n = leafHashes.length;
  if (oldSize > n) throw new ForensicsError('invalid_argument', `old size ${oldSize} exceeds tree size ${n}`);
  if (oldSize === 0 || oldSize === n) return [];
  const proof: Buffer[] = [];
  // SUBPROOF(m, D[start:end], b): b says whether the subtree hash is already known to the verifier.
  const sub = (m: number, start: number, end: number, b: boolean): void => {
    const size = end - start;
    if (m === size) {
      if (!b) proof.push(rootOf(leafHashes, start, end));
      return;
    }
    const k = splitPoint(size);
    if (m <= k) {
      sub(m, start, start + k, b);
      proof.push(rootOf(leafHashes, start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      proof.push(rootOf(leafHashes, start, start + k));
    }
  };
  sub(oldSize, 0, n, true);
  return proof;
}

function equalHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && Buffer.compare(a, b) === 0;
}

/** RFC 9162 §2.1.3.2: verifies that `leaf` (a leaf hash) sits at `index` in the tree of `treeSize` with `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  // BigInt keeps the bit arithmetic exact for tree sizes beyond 2^31.
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalHash(r, root);
}

/** RFC 9162 §2.1.4.2: verifies that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot). */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  if (proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (oldSize === newSize) return proof.length === 0 && equalHash(oldRoot, newRoot);
  // The empty tree is a prefix of every tree; there is nothing to prove.
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = [...proof];
  // A power-of-two old tree is a complete subtree of the new one, so its root is the path's start.
  if (isPowerOfTwo(BigInt(oldSize))) path.unshift(Buffer.from(oldRoot));
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalHash(fr, oldRoot) && equalHash(sr, newRoot);
}

function isPowerOfTwo(n: bigint): boolean {
  return n > 0n && (n & (n - 1n)) === 0n;
}

/**
 * A tree over a fixed list of leaf hashes, for callers that ask several questions of the same
 * tree (a bundle's root and then proofs for some of its files).
 */
export class MerkleTree {
  readonly #leaves: readonly Buffer[];
  #root: Buffer | undefined;

  private constructor(leaves: readonly Buffer[]) {
    this.#leaves = leaves;
  }

  /** From leaf data: each element is hashed with the 0x00 leaf prefix. */
  static fromLeafData(data: readonly Uint8Array[]): MerkleTree {
    return new MerkleTree(data.map((d) => leafHash(d)));
  }

  /** From leaf hashes already computed (32 bytes each). */
  static fromLeafHashes(hashes: readonly Uint8Array[]): MerkleTree {
    for (const h of hashes) {
      if (h.length !== HASH_SIZE) throw new ForensicsError('invalid_argument', 'a leaf hash must be 32 bytes');
    }
    return new MerkleTree(hashes.map((h) => Buffer.from(h)));
  }

  get size(): number {
    return this.#leaves.length;
  }

  leafHash(index: number): Buffer {
    const leaf = this.#leaves[index];
    if (!leaf) throw new ForensicsError('invalid_argument', `leaf index ${index} is outside a tree of ${this.size} leaves`);
    return Buffer.from(leaf);
  }

  root(): Buffer {
    this.#root ??= merkleRoot(this.#leaves);
    return Buffer.from(this.#root);
  }

  inclusionProof(index: number): Buffer[] {
    return inclusionProof(this.#leaves, index);
  }

  consistencyProof(oldSize: number): Buffer[] {
    return consistencyProof(this.#leaves, oldSize);
  }
}
