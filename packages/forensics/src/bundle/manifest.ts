import { jcs, jcsBytes, type JsonObject, type JsonValue } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import type { SignatureAlgorithm } from '../keys/signer.js';
import { sha256 } from '../merkle/merkle.js';
import { comparePaths } from './tar.js';

/**
 * Value of the manifest's `format` field for bundles built now; bump on any incompatible change.
 * v2: manifest.json and the other JSON of the bundle are RFC 8785 (JCS) bytes, a Sigstore bundle
 * (`manifest.sigstore.json`) ships beside the signatures, and an RFC 3161 timestamp, when taken,
 * covers the DSSE signature (so it bounds the signing time) instead of the Merkle root.
 */
export const MANIFEST_FORMAT = 'stellaops.evidence/v2';
/**
 * The first format, still verified: manifest.json in the legacy canonical form (sorted keys,
 * two-space indent, final newline), an optional RFC 3161 stamp of root.merkle (`timestamp.tsr`,
 * recorded in the manifest), no Sigstore bundle.
 */
export const LEGACY_MANIFEST_FORMAT = 'stellaops.evidence/v1';
export type ManifestFormat = typeof MANIFEST_FORMAT | typeof LEGACY_MANIFEST_FORMAT;
/** DSSE payload type of `manifest.dsse.json`. */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.stellaops.evidence-manifest+json';

/** Fixed names inside a bundle; content files live under `files/`. */
export const BUNDLE_ENTRIES = {
  manifest: 'manifest.json',
  merkleRoot: 'root.merkle',
  signature: 'manifest.sig',
  envelope: 'manifest.dsse.json',
  /** v2: Sigstore bundle v0.3 of the DSSE envelope (public-key hint, optional RFC 3161 timestamp over its signature). */
  sigstore: 'manifest.sigstore.json',
  /** v1 only: RFC 3161 stamp of root.merkle. */
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
  readonly format: ManifestFormat;
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
   * v1 only — present when the root was RFC 3161 timestamped at build time: the digest of
   * timestamp.tsr. The stamp is taken before signing, so the signature covers it too.
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
  // leafHash(manifestLeafData(file)), hashed in one call: 0x00 ‖ UTF-8 of the leaf data.
  return sha256(`\0${file.path}\0${file.size}\0${file.sha256}`);
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

/**
 * The one accepted encoding of a manifest: RFC 8785 JCS bytes for v2; for v1 (verification of
 * bundles built before v2) the legacy form those bundles were written in.
 */
export function serializeManifest(manifest: EvidenceManifest): Buffer {
  if (manifest.format === LEGACY_MANIFEST_FORMAT) return Buffer.from(legacyCanonicalJson(manifest), 'utf8');
  const files = jcsFiles(manifest.files);
  if (files === undefined) return jcsBytes(manifest);
  // The rest through the general JCS, with the file list spliced in: "files" is the third member
  // in sorted order, after bundleId?, caseId and createdAt, whose values are strings — so the
  // first `"files":[]` of the output is the top-level one.
  const rest = jcs({ ...manifest, files: [] });
  const at = rest.indexOf('"files":[]');
  if (at < 0) return jcsBytes(manifest);
  return Buffer.from(`${rest.slice(0, at)}"files":${files}${rest.slice(at + '"files":[]'.length)}`, 'utf8');
}

const FILE_KEYS = ['path', 'sha256', 'size'];

/**
 * RFC 8785 of a file list whose entries are exactly `{path, sha256, size}` (string, string,
 * finite number, plain objects), written directly — members in their JCS order, strings as
 * JSON.stringify spells them, numbers in their shortest form — instead of through the general
 * serializer, since a list has one entry per bundle file. Anything else: undefined, and the
 * caller uses the general serializer (which also says what is wrong).
 */
function jcsFiles(files: readonly ManifestFile[]): string | undefined {
  if (!Array.isArray(files)) return undefined;
  const out: string[] = [];
  for (const f of files) {
    if (f === null || typeof f !== 'object' || Object.getPrototypeOf(f) !== Object.prototype) return undefined;
    const keys = Object.keys(f);
    if (keys.length !== 3 || !FILE_KEYS.every((k) => keys.includes(k))) return undefined;
    const { path, sha256: digest, size } = f;
    if (typeof path !== 'string' || !path.isWellFormed() || typeof digest !== 'string' || !digest.isWellFormed() || typeof size !== 'number' || !Number.isFinite(size)) return undefined;
    out.push(`{"path":${JSON.stringify(path)},"sha256":${JSON.stringify(digest)},"size":${JSON.stringify(size)}}`);
  }
  return `[${out.join(',')}]`;
}

/**
 * The v1 manifest encoding, byte for byte as v1 bundles were written: members sorted as an
 * object literal built in sorted order enumerates them (integer-like names first, numerically —
 * a quirk kept so old bundles keep verifying), two-space indentation, final newline. Used only
 * to check v1 manifests; nothing new is written this way.
 */
function legacyCanonicalJson(value: unknown): string {
  const normalize = (v: unknown, at: string): JsonValue => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ForensicsError('invalid_argument', `${at} is not a finite number`);
      return v;
    }
    if (Array.isArray(v)) return v.map((x, i) => normalize(x === undefined ? null : x, `${at}[${i}]`));
    if (typeof v === 'object') {
      const out: JsonObject = {};
      for (const key of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[key];
        if (x !== undefined) out[key] = normalize(x, `${at}.${key}`);
      }
      return out;
    }
    throw new ForensicsError('invalid_argument', `${at} has a type JSON cannot hold (${typeof v})`);
  };
  return `${JSON.stringify(normalize(value, '$'), null, 2)}\n`;
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
  if (m.format !== MANIFEST_FORMAT && m.format !== LEGACY_MANIFEST_FORMAT) bad(`has format ${JSON.stringify(m.format)}, expected ${MANIFEST_FORMAT} (or ${LEGACY_MANIFEST_FORMAT})`);
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
    if (i > 0 && comparePaths(files[i - 1]!.path, f.path) >= 0) bad('lists files out of order or twice');
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
  if (ts !== undefined && m.format !== LEGACY_MANIFEST_FORMAT) bad(`records a root timestamp, which ${MANIFEST_FORMAT} does not have (its timestamp covers the signature, in ${BUNDLE_ENTRIES.sigstore})`);
  return m as unknown as EvidenceManifest;
}
