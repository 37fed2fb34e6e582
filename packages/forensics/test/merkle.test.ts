import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  MerkleTree,
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';

// Leaf inputs and expected values are the published reference vectors of
// transparency-dev/merkle (testonly/reference_test.go and testonly/constants.go), which carry the
// Certificate Transparency C++ merkle_tree_test.cc constants forward.
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  { index: 0, size: 2, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7'] },
  { index: 1, size: 2, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const CONSISTENCY: { m: number; n: number; proof: string[] }[] = [
  { m: 1, n: 1, proof: [] },
  {
    m: 1,
    n: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    m: 2,
    n: 5,
    proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
  },
  {
    m: 6,
    n: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const hashes = LEAVES.map((l) => leafHash(l));
const hex = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'));

describe('RFC 9162 Merkle tree hash', () => {
  it('hashes the empty tree as SHA-256 of nothing', () => {
    expect(merkleRoot([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(EMPTY_ROOT.equals(merkleRoot([]))).toBe(true);
  });

  it('reproduces the published roots for every prefix of the reference leaves', () => {
    for (let n = 1; n <= 8; n++) expect(merkleRoot(hashes.slice(0, n)).toString('hex')).toBe(ROOTS[n - 1]);
  });

  it('separates leaf and node domains and splits at the largest power of two below n', () => {
    // n = 3: k = 2, so MTH = H(0x01 || H(0x01 || l0 || l1) || l2), never the left-balanced alternative.
    const expected = nodeHash(nodeHash(hashes[0]!, hashes[1]!), hashes[2]!);
    expect(merkleRoot(hashes.slice(0, 3)).equals(expected)).toBe(true);
    expect(merkleRoot(hashes.slice(0, 3)).equals(nodeHash(hashes[0]!, nodeHash(hashes[1]!, hashes[2]!)))).toBe(false);
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(ROOTS[0]);
  });

  it('produces the published inclusion proofs, which verify; altered proofs do not', () => {
    for (const v of INCLUSION) {
      const leaves = hashes.slice(0, v.size);
      const proof = inclusionProof(leaves, v.index);
      expect(hex(proof)).toEqual(v.proof);
      const root = Buffer.from(ROOTS[v.size - 1]!, 'hex');
      expect(verifyInclusion(leaves[v.index]!, v.index, v.size, proof, root)).toBe(true);
      expect(verifyInclusion(leaves[v.index]!, v.size, v.size, proof, root)).toBe(false);
      if (proof.length > 0) {
        const bad = proof.map((p) => Buffer.from(p));
        bad[0]![0]! ^= 1;
        expect(verifyInclusion(leaves[v.index]!, v.index, v.size, bad, root)).toBe(false);
        expect(verifyInclusion(leaves[v.index]!, v.index, v.size, proof.slice(1), root)).toBe(false);
        expect(verifyInclusion(leaves[v.index]!, (v.index + 1) % v.size, v.size, proof, root)).toBe(false);
      }
    }
  });

  it('produces the published consistency proofs, which verify; altered proofs do not', () => {
    for (const v of CONSISTENCY) {
      const proof = consistencyProof(hashes.slice(0, v.n), v.m);
      expect(hex(proof)).toEqual(v.proof);
      const oldRoot = Buffer.from(ROOTS[v.m - 1]!, 'hex');
      const newRoot = Buffer.from(ROOTS[v.n - 1]!, 'hex');
      expect(verifyConsistency(v.m, v.n, oldRoot, newRoot, proof)).toBe(true);
      if (proof.length > 0) {
        expect(verifyConsistency(v.m, v.n, newRoot, newRoot, proof)).toBe(false);
        expect(verifyConsistency(v.m, v.n, oldRoot, oldRoot, proof)).toBe(false);
        expect(verifyConsistency(v.m, v.n, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
      }
    }
  });

  it('proves and verifies every leaf and every prefix of larger trees', () => {
    const big = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    for (let n = 1; n <= big.length; n++) {
      const tree = MerkleTree.fromLeafHashes(big.slice(0, n));
      const root = tree.root();
      for (let i = 0; i < n; i++) expect(verifyInclusion(tree.leafHash(i), i, n, tree.inclusionProof(i), root)).toBe(true);
      for (let m = 1; m <= n; m++) {
        const oldRoot = merkleRoot(big.slice(0, m));
        expect(verifyConsistency(m, n, oldRoot, root, tree.consistencyProof(m))).toBe(true);
        if (m < n) expect(verifyConsistency(m, n, oldRoot, merkleRoot(big.slice(1, n + 1)), tree.consistencyProof(m))).toBe(false);
      }
    }
  });

  it('builds from leaf data the same as from leaf hashes', () => {
    expect(MerkleTree.fromLeafData(LEAVES).root().toString('hex')).toBe(ROOTS[7]);
    expect(() => MerkleTree.fromLeafHashes([Buffer.alloc(31)])).toThrow(/32 bytes/);
  });
});
