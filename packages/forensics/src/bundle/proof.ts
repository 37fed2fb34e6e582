import { ForensicsError } from '../errors.js';
import { inclusionProof, verifyInclusion } from '../merkle/merkle.js';
import { manifestLeafHash, type EvidenceManifest, type ManifestFile } from './manifest.js';

/** Proof that one file belongs to a bundle with a given root, without the other files (EVI-3). */
export interface FileInclusionProof {
  readonly file: ManifestFile;
  readonly leafIndex: number;
  readonly treeSize: number;
  /** Hex sibling hashes, leaf side first (RFC 9162 §2.1.3). */
  readonly proof: readonly string[];
  /** Hex Merkle root. */
  readonly root: string;
}

export function fileInclusionProof(manifest: EvidenceManifest, path: string): FileInclusionProof {
  const leafIndex = manifest.files.findIndex((f) => f.path === path);
  if (leafIndex === -1) throw new ForensicsError('invalid_argument', `${path} is not in the bundle`);
  const leaves = manifest.files.map(manifestLeafHash);
  return {
    file: manifest.files[leafIndex]!,
    leafIndex,
    treeSize: leaves.length,
    proof: inclusionProof(leaves, leafIndex).map((h) => h.toString('hex')),
    root: manifest.merkle.root,
  };
}

/** Checks a proof; pass `root` from a trusted source (a verified manifest, the database) — not from the proof. */
export function verifyFileInclusion(proof: FileInclusionProof, root: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(root) || proof.proof.some((h) => !/^[0-9a-f]{64}$/.test(h))) return false;
  return verifyInclusion(
    manifestLeafHash(proof.file),
    proof.leafIndex,
    proof.treeSize,
    proof.proof.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(root, 'hex'),
  );
}
