import { canonicalJson, type JsonObject } from '../encoding/canonical-json.js';
import { ForensicsError } from '../errors.js';
import type { SignatureAlgorithm } from '../keys/signer.js';
import { leafHash } from '../merkle/merkle.js';

/** Value of the manifest's `format` field; bump on any incompatible change. */
export const MANIFEST_FORMAT = 'stellaops.evidence/v1';
/** DSSE payload type of `manifest.dsse.json`. */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.stellaops.evidence-manifest+json';

/** Fixed names inside a bundle; content files live under `files/`. */
export const BUNDLE_ENTRIES = {
  manifest: 'manifest.json',
  merkleRoot: 'root.merkle',
  signature: 'manifest.sig',
  envelope: 'manifest.dsse.json',
  timestamp: 'timestamp.tsr',
} as const;
export const CONTENT_PREFIX = 'files/';

/** Snapshot kinds (SPEC EVI-2). */
export type EvidenceKind = 'evaluation' | 'job-capsule' | 'export';
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['evaluation', 'job-capsule', 'export'];

export interface ManifestFile {
  /** Path relative to `files/`, "/"-separated. */
  readonly path: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the content. */
  readonly sha256: string;
}

export interface EvidenceManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly kind: EvidenceKind;
  readonly tenant: string;
  readonly caseId: string;
  readonly resourceId: string;
  readonly bundleId?: string;
  /** ISO-8601 UTC; also the mtime of every tar entry and the time the signing key must be valid at. */
  readonly createdAt: string;
  /** Sorted by UTF-8 path bytes; the Merkle leaves in the same order. */
  readonly files: readonly ManifestFile[];
  readonly merkle: {
    readonly algorithm: 'rfc9162-sha256';
    /** How leaf data is formed from a file entry (documented, so third parties can recompute). */
    readonly leaf: 'path NUL size NUL sha256-hex';
    readonly treeSize: number;
    /** Lowercase hex root. */
    readonly root: string;
  };
  readonly signer: { readonly keyId: string; readonly algorithm: SignatureAlgorithm };
  /**
   * Present when the root was RFC 3161 timestamped at build time: the digest of timestamp.tsr.
   * The stamp is taken before signing, so the signature covers it too.
   */
  readonly timestamp?: { readonly sha256: string };
  /** Kind-specific description (builders fill it; never secrets). */
  readonly metadata?: JsonObject;
}

/** Leaf data for a file: UTF-8 path, NUL, decimal size, NUL, hex digest — binds name, length and content. */
export function manifestLeafData(file: ManifestFile): Buffer {
  return Buffer.from(`${file.path}\0${file.size}\0${file.sha256}`, 'utf8');
}

export function manifestLeafHash(file: ManifestFile): Buffer {
  return leafHash(manifestLeafData(file));
}

/** Contents of `root.merkle` (and the bytes an RFC 3161 timestamp covers). */
export function merkleRootFileContent(rootHex: string): Buffer {
  return Buffer.from(`${rootHex}\n`, 'ascii');
}

/**
 * Content paths are relative, "/"-separated, without empty, "." or ".." segments, backslashes or
 * control characters — so extraction can never escape the bundle and every OS sees one name.
 */
export function validateContentPath(path: string): string {
  const bad = (why: string): never => {
    throw new ForensicsError('invalid_path', `invalid bundle file path ${JSON.stringify(path)}: ${why}`);
  };
  if (typeof path !== 'string' || path.length === 0) bad('empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) bad('control characters and backslashes are not allowed');
  if (path.startsWith('/')) bad('must be relative');
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) bad('empty, "." and ".." segments are not allowed');
  if (Buffer.byteLength(CONTENT_PREFIX + path, 'utf8') > 255) bad('longer than 249 bytes');
  if (path.normalize('NFC') !== path) bad('must be Unicode NFC');
  return path;
}

export function serializeManifest(manifest: EvidenceManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses and shape-checks manifest bytes; throws `invalid_manifest` naming the first problem. */
export function parseManifest(bytes: Uint8Array): EvidenceManifest {
  const bad = (why: string): never => {
    throw new ForensicsError('invalid_manifest', `manifest.json ${why}`);
  };
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('is not valid JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) bad('is not an object');
  if (m.format !== MANIFEST_FORMAT) bad(`has format ${JSON.stringify(m.format)}, expected ${MANIFEST_FORMAT}`);
  if (!EVIDENCE_KINDS.includes(m.kind as EvidenceKind)) bad(`has unknown kind ${JSON.stringify(m.kind)}`);
  for (const k of ['tenant', 'caseId', 'resourceId', 'createdAt'] as const) {
    if (typeof m[k] !== 'string' || m[k] === '') bad(`lacks "${k}"`);
  }
  const created = new Date(m.createdAt as string);
  if (Number.isNaN(created.getTime()) || created.toISOString() !== m.createdAt) bad('has a createdAt that is not ISO-8601 UTC');
  if (!Array.isArray(m.files)) bad('lacks "files"');
  const files = m.files as ManifestFile[];
  for (const [i, f] of files.entries()) {
    if (!f || typeof f.path !== 'string' || !Number.isSafeInteger(f.size) || f.size < 0 || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) {
      bad(`has a malformed files[${i}]`);
    }
    try {
      validateContentPath(f.path);
    } catch (err) {
      bad(`files[${i}]: ${(err as Error).message}`);
    }
    if (i > 0 && Buffer.compare(Buffer.from(files[i - 1]!.path), Buffer.from(f.path)) >= 0) bad('lists files out of order or twice');
  }
  const merkle = m.merkle as EvidenceManifest['merkle'] | undefined;
  if (!merkle || merkle.algorithm !== 'rfc9162-sha256' || typeof merkle.root !== 'string' || !HEX64.test(merkle.root) || merkle.treeSize !== files.length) {
    bad('has a malformed "merkle" section');
  }
  const signer = m.signer as EvidenceManifest['signer'] | undefined;
  if (!signer || typeof signer.keyId !== 'string' || !HEX64.test(signer.keyId) || !['ecdsa-p256-sha256', 'ed25519'].includes(signer.algorithm)) {
    bad('has a malformed "signer"');
  }
  const ts = m.timestamp as EvidenceManifest['timestamp'] | undefined;
  if (ts !== undefined && (!ts || typeof ts.sha256 !== 'string' || !HEX64.test(ts.sha256))) bad('has a malformed "timestamp"');
  return m as unknown as EvidenceManifest;
}
