import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readdirSync, readSync, type Dirent } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64 } from '../encoding/base64.js';
import { jcsBytes } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import { pae, parseDsseEnvelope, type DsseEnvelope } from '../dsse/dsse.js';
import type { KeyRecord, Keyring } from '../keys/keyring.js';
import { checkSignature, loadPublicKey, type SignatureAlgorithm, type VerificationKey } from '../keys/signer.js';
import { merkleRoot } from '../merkle/merkle.js';
import { verifyCanonicalTimestamp, verifyTimestamp, type TimestampVerification } from '../timestamp/rfc3161.js';
import { failure, type VerificationFailure, type VerificationFailureCode } from '../verification-failure.js';
import { gunzipCanonical, isGzipMagic } from './gzip.js';
import {
  BUNDLE_ENTRIES,
  CONTENT_PREFIX,
  LEGACY_MANIFEST_FORMAT,
  MANIFEST_PAYLOAD_TYPE,
  manifestLeafHash,
  merkleRootFileContent,
  parseManifest,
  serializeManifest,
  type EvidenceManifest,
  type ManifestFile,
  type ManifestFormat,
} from './manifest.js';
import { canonicalEnvelope, serializeSigstoreBundle, sigstoreBundle, SIGSTORE_BUNDLE_MEDIA_TYPE } from './sigstore.js';
import { comparePaths, readTar } from './tar.js';
import { Pacer } from './pacer.js';

/** Metadata entries are read whole; anything larger than this is refused rather than buffered. */
const MAX_META_BYTES = 64 * 1024 * 1024;
const META_NAMES = new Set<string>(Object.values(BUNDLE_ENTRIES));
/** Signature files of v2 and v1 bundles beside the manifest (timestamp.tsr only in v1, the Sigstore bundle only in v2). */
const V1_ONLY = BUNDLE_ENTRIES.timestamp;
const V2_ONLY = BUNDLE_ENTRIES.sigstore;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface VerifyBundleOptions {
  /** Trusted public key(s): SPKI PEM, KeyObject or loaded keys. Either this or `keyring`. */
  readonly publicKey?: string | KeyObject | VerificationKey | readonly (string | KeyObject | VerificationKey)[];
  /** Trusted key ring: the signer must be in it, unrevoked and valid at the signing time. */
  readonly keyring?: Keyring;
  /** PEM certificates of trusted TSAs (roots, or the issuing CA chain); without them a timestamp is checked but reported untrusted. */
  readonly tsaTrustAnchors?: readonly string[];
  /**
   * Fail unless the bundle carries a valid RFC 3161 timestamp that chains to `tsaTrustAnchors`;
   * and, with a key ring, fail a bundle signed by a key that is no longer active (retired, or
   * with an end of validity) unless a TSA time over the signature falls inside the key's
   * validity window. Default false: the signing time is then the signer's word (`asserted`).
   */
  readonly requireTimestamp?: boolean;
  /** Clock skew allowed between the signer's createdAt and the TSA's genTime. Default 300 s. */
  readonly timestampSkewSeconds?: number;
  /** Read buffer for content files. Default 1 MiB. */
  readonly chunkSize?: number;
}

/** When the bundle was signed, and how much that is worth. */
export interface SigningTime {
  /**
   * `tsa`: proven — an RFC 3161 timestamp from a trusted TSA covers the signature, so the
   * signature existed at `time`. `asserted`: the signer's own `createdAt`, which anyone holding
   * the key could have written (a backdated signature looks the same).
   */
  readonly source: 'asserted' | 'tsa';
  /** ISO time: the TSA's genTime when proven, else the manifest's createdAt. */
  readonly time: string;
  /** The manifest's createdAt (the signer's claim). */
  readonly asserted: string;
  /** The TSA that proved it (certificate subject), when `source` is `tsa`. */
  readonly tsa?: string;
}

export interface BundleVerification {
  readonly ok: boolean;
  readonly failures: readonly VerificationFailure[];
  /** How the bundle was read. */
  readonly container?: 'directory' | 'tar' | 'tar.gz';
  readonly format?: ManifestFormat;
  readonly manifest?: EvidenceManifest;
  /** Hex SHA-256 of manifest.json. */
  readonly manifestDigest?: string;
  /** Merkle root recomputed from the files actually present. */
  readonly root?: string;
  readonly signer?: { readonly keyId: string; readonly algorithm: SignatureAlgorithm };
  readonly createdAt?: string;
  /** The signing time and whether it is proven (`tsa`) or only the signer's word (`asserted`). */
  readonly signingTime?: SigningTime;
  readonly fileCount: number;
  readonly contentBytes: number;
  /**
   * The RFC 3161 timestamp found, if any: over the DSSE signature (`covers: 'signature'`, v2,
   * an upper bound of the signing time) or over root.merkle (`covers: 'root'`, v1: the files
   * existed then; the signature was made after).
   */
  readonly timestamp?: {
    readonly genTime: string;
    readonly trusted: boolean;
    readonly covers: 'signature' | 'root';
    readonly tsa?: string;
    readonly serialNumber?: string;
    readonly policy?: string;
  };
  /** Observations that do not fail the bundle but qualify it (e.g. a retired key with only an asserted time). */
  readonly notes: readonly string[];
}

interface Collected {
  readonly content: Map<string, { size: number; sha256: string }>;
  readonly meta: Map<string, Buffer>;
  readonly problems: VerificationFailure[];
  /** tar only: mtime of every entry, to compare with createdAt. */
  readonly mtimes: Set<number>;
}

function emptyCollected(): Collected {
  return { content: new Map(), meta: new Map(), problems: [], mtimes: new Set() };
}

/** Routes one entry's bytes: content is hashed as it streams, metadata is kept, anything else is reported. */
function entrySink(c: Collected, path: string, declaredSize: number): { write(chunk: Buffer): void; end(): void } {
  if (path.startsWith(CONTENT_PREFIX)) {
    const hash = createHash('sha256');
    let size = 0;
    return {
      write(chunk) {
        hash.update(chunk);
        size += chunk.length;
      },
      end() {
        c.content.set(path.slice(CONTENT_PREFIX.length), { size, sha256: hash.digest('hex') });
      },
    };
  }
  if (META_NAMES.has(path)) {
    if (declaredSize > MAX_META_BYTES) {
      c.problems.push(failure('file_unexpected', `${path} is ${declaredSize} bytes, over the ${MAX_META_BYTES}-byte limit for bundle metadata`, { path }));
      return { write() {}, end() {} };
    }
    const parts: Buffer[] = [];
    return {
      write(chunk) {
        parts.push(Buffer.from(chunk));
      },
      end() {
        c.meta.set(path, Buffer.concat(parts));
      },
    };
  }
  c.problems.push(failure('file_unexpected', `${path} is not part of the bundle format`, { path }));
  return { write() {}, end() {} };
}

function toKeys(input: VerifyBundleOptions['publicKey']): VerificationKey[] {
  if (input === undefined) return [];
  const list = Array.isArray(input) ? input : [input];
  return list.map((k) => (typeof k === 'object' && 'keyId' in k && 'publicKeyPem' in k ? (k as VerificationKey) : loadPublicKey(k as string | KeyObject)));
}



/**
 * A tar file read with synchronous reads into one reused buffer: each chunk is valid until the
 * next is asked for. That suits the tar reader, which hashes content as it passes and copies
 * what it keeps, and spares a thread-pool round trip and an allocation per chunk.
 */
async function* reusedChunks(fd: number, chunkSize: number): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(chunkSize);
  const pacer = new Pacer();
  for (let position = 0; ; ) {
    const n = readSync(fd, buf, 0, chunkSize, position);
    if (n === 0) return;
    position += n;
    yield buf.subarray(0, n);
    await pacer.maybeYield();
  }
}

/** Verifies a bundle on disk: a directory, a `.tar` file or a `.tar.gz` file (recognised by its bytes, not its name). */
export async function verifyBundle(location: string, options: VerifyBundleOptions): Promise<BundleVerification> {
  let info;
  try {
    info = await stat(location);
  } catch (cause) {
    throw new ForensicsError('io_error', `cannot open bundle ${location}: ${(cause as Error).message}`, { cause });
  }
  if (info.isDirectory()) return verifyBundleDirectory(location, options);
  const chunkSize = options.chunkSize ?? 1 << 20;
  let fd: number;
  try {
    fd = openSync(location, 'r');
  } catch (cause) {
    throw new ForensicsError('io_error', `cannot open bundle ${location}: ${(cause as Error).message}`, { cause });
  }
  try {
    // A .tar.gz goes through the inflater, which may hold on to its input: it gets fresh chunks.
    const magic = Buffer.alloc(2);
    const gzip = readSync(fd, magic, 0, 2, 0) === 2 && isGzipMagic(magic);
    if (gzip) return await verifyBundleStream(createReadStream(location, { highWaterMark: chunkSize }), options);
    return await verifyBundleStream(reusedChunks(fd, chunkSize), options);
  } finally {
    closeSync(fd);
  }
}

/** Verifies a bundle tar, or a gzip'ed one (recognised by its first bytes), read from a stream (e.g. straight from object storage). */
export async function verifyBundleStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: VerifyBundleOptions): Promise<BundleVerification> {
  checkOptions(options);
  const c = emptyCollected();
  // Peek at the first chunk to tell gzip from tar, then read on from where it left off.
  const it = (Symbol.asyncIterator in source ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() : (source as Iterable<Uint8Array>)[Symbol.iterator]()) as
    | AsyncIterator<Uint8Array>
    | Iterator<Uint8Array>;
  let first: IteratorResult<Uint8Array>;
  try {
    first = await it.next();
  } catch (cause) {
    throw new ForensicsError('io_error', `reading the bundle failed: ${(cause as Error).message}`, { cause });
  }
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    },
  };
  const gzip = !first.done && isGzipMagic(first.value);
  const tarSource = gzip ? gunzipCanonical(rest, (p) => c.problems.push(failure(p.code, p.message))) : rest;
  let problems;
  try {
    problems = await readTar(tarSource, (h) => {
      c.mtimes.add(h.mtimeSeconds);
      return entrySink(c, h.path, h.size);
    });
  } catch (cause) {
    throw new ForensicsError('io_error', `reading the bundle failed: ${(cause as Error).message}`, { cause });
  }
  // A broken gzip wrapper truncates the tar; its own reason comes first and the tar's echo of it is dropped.
  const wrapperBroken = c.problems.some((p) => p.code === 'archive_compression_invalid');
  for (const p of problems) {
    if (wrapperBroken && (p.code === 'archive_malformed' || (p.code === 'archive_noncanonical' && !p.path))) continue;
    c.problems.push(failure(p.code, p.message, p.path ? { path: p.path } : {}));
  }
  return evaluate(c, options, gzip ? 'tar.gz' : 'tar');
}

/**
 * Verifies an unpacked bundle directory. It may hold exactly the bundle's files: anything else —
 * an extra file, an empty directory, a symbolic link, a hard-linked file, a device, FIFO or
 * socket — fails with a named reason and its path.
 */
export async function verifyBundleDirectory(dir: string, options: VerifyBundleOptions): Promise<BundleVerification> {
  checkOptions(options);
  const c = emptyCollected();
  const chunkSize = options.chunkSize ?? 1 << 20;
  const pacer = new Pacer();
  // One reused read buffer, synchronous reads: a small file costs an open, a read and a close.
  const scratch = Buffer.allocUnsafe(chunkSize);
  /** Hashes a file as an entry; false (and a failure) when it has more than one link. */
  const hashFile = async (abs: string, rel: string): Promise<boolean> => {
    const fd = openSync(abs, 'r');
    try {
      const st = fstatSync(fd);
      if (st.nlink > 1) {
        // Another name for the same bytes, inside or outside the bundle: they can change under it.
        notRegular('entry_hardlink', rel, `a hard-linked file (${st.nlink} links)`);
        return false;
      }
      const sink = entrySink(c, rel, st.size);
      for (let position = 0; ; ) {
        const n = readSync(fd, scratch, 0, chunkSize, position);
        if (n === 0) break;
        position += n;
        sink.write(scratch.subarray(0, n));
        await pacer.maybeYield();
      }
      sink.end();
      return true;
    } finally {
      closeSync(fd);
    }
  };
  const notRegular = (code: VerificationFailureCode, rel: string, what: string): void => {
    c.problems.push(failure(code, `${rel} is ${what}; a bundle holds regular files only`, { path: rel }));
  };
  /** Walks a directory; returns how many regular files its subtree holds. */
  const walk = async (abs: string, rel: string): Promise<number> => {
    const entries: Dirent[] = readdirSync(abs, { withFileTypes: true }).sort((a, b) => comparePaths(a.name, b.name));
    let files = 0;
    for (const e of entries) {
      const childAbs = join(abs, e.name);
      const childRel = rel + e.name;
      if (e.isSymbolicLink()) notRegular('entry_symlink', childRel, 'a symbolic link');
      else if (e.isDirectory()) {
        if (rel === '' && `${e.name}/` !== CONTENT_PREFIX) {
          c.problems.push(failure('file_unexpected', `${childRel}/ is not part of the bundle format`, { path: `${childRel}/` }));
          continue;
        }
        const inside = await walk(childAbs, `${childRel}/`);
        if (inside === 0) c.problems.push(failure('entry_directory', `${childRel}/ is a directory that holds no bundle file`, { path: `${childRel}/` }));
        files += inside;
      } else if (e.isFile()) {
        if (await hashFile(childAbs, childRel)) files++;
      } else {
        const kind = e.isFIFO() ? 'a FIFO' : e.isSocket() ? 'a socket' : e.isBlockDevice() || e.isCharacterDevice() ? 'a device file' : 'not a regular file';
        notRegular('entry_special', childRel, kind);
      }
    }
    return files;
  };
  try {
    await walk(dir, '');
  } catch (cause) {
    throw new ForensicsError('io_error', `reading the bundle failed: ${(cause as Error).message}`, { cause });
  }
  return evaluate(c, options, false);
}

function checkOptions(options: VerifyBundleOptions): void {
  if (!options.keyring && options.publicKey === undefined) {
    throw new ForensicsError('invalid_argument', 'verification needs a trusted public key or a key ring');
  }
}

/** What the v1 builder wrote for the envelope file; v2 writes JCS. */
function envelopeBytes(format: ManifestFormat, env: DsseEnvelope): Buffer {
  const canonical = canonicalEnvelope(env);
  return format === LEGACY_MANIFEST_FORMAT ? Buffer.from(`${JSON.stringify(canonical, null, 2)}\n`, 'utf8') : jcsBytes(canonical);
}

function describeTimestamp(t: TimestampVerification, covers: 'signature' | 'root'): BundleVerification['timestamp'] {
  if (!t.genTime) return undefined;
  return {
    genTime: t.genTime.toISOString(),
    trusted: t.trusted,
    covers,
    ...(t.tsa ? { tsa: t.tsa } : {}),
    ...(t.serialNumber ? { serialNumber: t.serialNumber } : {}),
    ...(t.policy ? { policy: t.policy } : {}),
  };
}

async function evaluate(c: Collected, options: VerifyBundleOptions, container: 'tar' | 'tar.gz' | false): Promise<BundleVerification> {
  const failures: VerificationFailure[] = [...c.problems];
  const notes: string[] = [];
  let contentBytes = 0;
  for (const v of c.content.values()) contentBytes += v.size;
  const base = { fileCount: c.content.size, contentBytes, container: container || ('directory' as const), notes };
  const manifestBytes = c.meta.get(BUNDLE_ENTRIES.manifest);
  const sigText = c.meta.get(BUNDLE_ENTRIES.signature);
  if (!sigText) failures.push(failure('signature_missing', 'manifest.sig is missing: the bundle is unsigned', { path: BUNDLE_ENTRIES.signature }));
  if (!manifestBytes) {
    failures.push(failure('manifest_missing', 'manifest.json is missing', { path: BUNDLE_ENTRIES.manifest }));
    return { ok: false, failures, ...base };
  }
  const manifestDigest = createHash('sha256').update(manifestBytes).digest('hex');
  let manifest: EvidenceManifest;
  try {
    manifest = parseManifest(manifestBytes);
    if (!serializeManifest(manifest).equals(manifestBytes)) {
      throw new Error(
        manifest.format === LEGACY_MANIFEST_FORMAT
          ? 'manifest.json is not in the canonical v1 form (sorted keys, two-space indent, final newline)'
          : 'manifest.json is not its RFC 8785 (JCS) canonical form (member order, whitespace, number or string spelling, duplicate names)',
      );
    }
  } catch (err) {
    failures.push(failure('manifest_invalid', (err as Error).message, { path: BUNDLE_ENTRIES.manifest }));
    return { ok: false, failures, manifestDigest, ...base };
  }
  const v1 = manifest.format === LEGACY_MANIFEST_FORMAT;
  const notInFormat = v1 ? V2_ONLY : V1_ONLY;
  if (c.meta.has(notInFormat)) {
    failures.push(failure('file_unexpected', `${notInFormat} is not part of a ${manifest.format} bundle`, { path: notInFormat }));
  }

  // Files against the manifest.
  const listed = new Map<string, ManifestFile>(manifest.files.map((f) => [f.path, f]));
  for (const f of manifest.files) {
    const seen = c.content.get(f.path);
    const path = CONTENT_PREFIX + f.path;
    if (!seen) failures.push(failure('file_missing', `${path} is listed in the manifest but missing`, { path }));
    else if (seen.size !== f.size) failures.push(failure('size_mismatch', `${path} has ${seen.size} bytes, the manifest says ${f.size}`, { path }));
    else if (seen.sha256 !== f.sha256) failures.push(failure('digest_mismatch', `${path} has sha256 ${seen.sha256}, the manifest says ${f.sha256}`, { path }));
  }
  for (const path of [...c.content.keys()].sort(comparePaths)) {
    if (!listed.has(path)) failures.push(failure('file_unexpected', `${CONTENT_PREFIX}${path} is not listed in the manifest`, { path: CONTENT_PREFIX + path }));
  }

  // Merkle root from what is actually there, against the manifest and root.merkle.
  const present = [...c.content.entries()].map(([path, v]) => ({ path, ...v })).sort((a, b) => comparePaths(a.path, b.path));
  const root = merkleRoot(present.map(manifestLeafHash)).toString('hex');
  if (root !== manifest.merkle.root) {
    failures.push(failure('merkle_root_mismatch', `Merkle root of the files is ${root}, the manifest says ${manifest.merkle.root}`, { path: BUNDLE_ENTRIES.manifest }));
  }
  const rootFile = c.meta.get(BUNDLE_ENTRIES.merkleRoot);
  if (!rootFile) failures.push(failure('merkle_root_missing', 'root.merkle is missing', { path: BUNDLE_ENTRIES.merkleRoot }));
  else if (!rootFile.equals(merkleRootFileContent(manifest.merkle.root))) {
    failures.push(failure('merkle_root_mismatch', 'root.merkle does not hold the manifest\'s Merkle root', { path: BUNDLE_ENTRIES.merkleRoot }));
  }

  if (container) {
    const expected = Math.floor(new Date(manifest.createdAt).getTime() / 1000);
    if ([...c.mtimes].some((m) => m !== expected)) {
      failures.push(failure('archive_noncanonical', `tar entry times differ from the manifest's createdAt (${manifest.createdAt})`));
    }
  }

  // Which key may have signed: the one the manifest names, if trusted and valid at createdAt.
  const assertedAt = new Date(manifest.createdAt);
  const keyId = manifest.signer.keyId;
  let key: VerificationKey | undefined;
  let record: KeyRecord | undefined;
  if (options.keyring) {
    record = options.keyring.get(keyId);
    const check = options.keyring.checkKey(keyId, assertedAt);
    if (check.ok) key = check.key;
    else failures.push(failure(check.code, check.message, { keyId }));
  } else {
    const keys = toKeys(options.publicKey);
    key = keys.find((k) => k.keyId === keyId);
    if (!key) {
      failures.push(failure('key_mismatch', `the bundle was signed by key ${keyId}, not by the supplied key ${keys.map((k) => k.keyId).join(', ')}`, { keyId }));
    }
  }
  if (key && key.algorithm !== manifest.signer.algorithm) {
    failures.push(failure('key_mismatch', `the manifest says ${manifest.signer.algorithm} but key ${keyId} is ${key.algorithm}`, { keyId }));
    key = undefined;
  }

  // manifest.sig: exactly the base64 (standard alphabet, padded, nothing else) the signer writes.
  if (sigText) {
    const path = BUNDLE_ENTRIES.signature;
    const text = sigText.toString('latin1');
    let sig: Buffer | undefined;
    if (!CANONICAL_BASE64.test(text) || text.length === 0) {
      const why = /\s/.test(text) ? 'whitespace or a line break' : text.length === 0 ? 'nothing' : 'characters or padding outside standard base64';
      failures.push(failure('signature_noncanonical', `manifest.sig holds ${why}; it must be exactly the base64 of the signature, as written by the signer (no newline)`, { path }));
    } else {
      try {
        sig = decodeBase64(text, 'manifest.sig');
      } catch {
        sig = undefined;
      }
      if (!sig || encodeBase64(sig) !== text) {
        failures.push(failure('signature_noncanonical', 'manifest.sig is not the one base64 spelling of its bytes', { path }));
        sig = undefined;
      }
    }
    if (sig && key) {
      const check = checkSignature(key, manifestBytes, sig);
      if (!check.ok) failures.push(failure(check.code, `manifest.sig: ${check.message}${check.code === 'signature_invalid' ? ` over manifest.json with key ${keyId}` : ''}`, { path, keyId }));
    }
  }

  // manifest.dsse.json: the one envelope the builder writes — one signature, by the manifest's key, over manifest.json.
  let envelope: DsseEnvelope | undefined;
  const envBytes = c.meta.get(BUNDLE_ENTRIES.envelope);
  const envPath = BUNDLE_ENTRIES.envelope;
  if (!envBytes) {
    failures.push(failure('envelope_missing', 'manifest.dsse.json is missing', { path: envPath }));
  } else {
    try {
      const env = parseDsseEnvelope(envBytes);
      envelope = env;
      // DSSE leaves keyid and unknown fields unauthenticated, and several base64 spellings decode
      // alike: only the builder's exact serialization is accepted.
      if (!envBytes.equals(envelopeBytes(manifest.format, env))) {
        failures.push(failure('envelope_invalid', `manifest.dsse.json is not in its canonical form (${v1 ? 'v1 layout' : 'RFC 8785 JCS'}, standard padded base64): altered outside its signed payload`, { path: envPath }));
      }
      if (env.signatures.length !== 1 || env.signatures[0]!.keyid !== keyId) {
        failures.push(failure('envelope_invalid', `manifest.dsse.json must carry exactly one signature, with keyid ${keyId}`, { path: envPath }));
      }
      const payload = decodeBase64(env.payload);
      if (!payload.equals(manifestBytes)) {
        failures.push(failure('envelope_payload_mismatch', 'manifest.dsse.json signs different bytes than manifest.json', { path: envPath }));
      }
      if (env.payloadType !== MANIFEST_PAYLOAD_TYPE) {
        failures.push(failure('payload_type_mismatch', `manifest.dsse.json has payload type ${env.payloadType}, expected ${MANIFEST_PAYLOAD_TYPE}`, { path: envPath }));
      }
      const first = env.signatures[0];
      if (key && first) {
        const check = checkSignature(key, pae(env.payloadType, payload), decodeBase64(first.sig, 'signature 0'));
        if (!check.ok) failures.push(failure(check.code, `manifest.dsse.json: ${check.message}${check.code === 'signature_invalid' ? ` over the payload with key ${keyId}` : ''}`, { path: envPath, keyId }));
      } else if (!first) {
        failures.push(failure('signature_missing', 'manifest.dsse.json carries no signature', { path: envPath }));
      }
    } catch (err) {
      envelope = undefined;
      failures.push(failure('envelope_invalid', `manifest.dsse.json: ${(err as Error).message}`, { path: envPath }));
    }
  }

  // Timestamps: v2 — over the DSSE signature, inside the Sigstore bundle; v1 — over root.merkle.
  const skew = (options.timestampSkewSeconds ?? 300) * 1000;
  let timestamp: BundleVerification['timestamp'];
  let proven: { genTime: Date; tsa?: string } | undefined;
  let anyToken = false;
  const anchors = options.tsaTrustAnchors ? { trustAnchors: options.tsaTrustAnchors } : {};
  if (!v1) {
    const path = BUNDLE_ENTRIES.sigstore;
    const file = c.meta.get(path);
    if (!file) {
      failures.push(failure('sigstore_bundle_missing', `${path} is missing: a ${manifest.format} bundle ships its Sigstore bundle`, { path }));
    } else {
      let tokens: Buffer[] = [];
      try {
        const parsed = JSON.parse(file.toString('utf8')) as { mediaType?: unknown; verificationMaterial?: { timestampVerificationData?: { rfc3161Timestamps?: unknown } } };
        if (parsed?.mediaType !== SIGSTORE_BUNDLE_MEDIA_TYPE) throw new Error(`media type is not ${SIGSTORE_BUNDLE_MEDIA_TYPE}`);
        const list = parsed.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps ?? [];
        if (!Array.isArray(list) || list.length > 1) throw new Error('it must hold at most one RFC 3161 timestamp');
        tokens = list.map((t: { signedTimestamp?: unknown }, i: number) => {
          if (typeof t?.signedTimestamp !== 'string') throw new Error(`rfc3161Timestamps[${i}] lacks signedTimestamp`);
          return decodeBase64(t.signedTimestamp, `rfc3161Timestamps[${i}]`);
        });
        if (envelope && !serializeSigstoreBundle(sigstoreBundle(envelope, keyId, tokens)).equals(file)) {
          throw new Error(`it is not exactly the Sigstore bundle (RFC 8785 JCS) of ${BUNDLE_ENTRIES.envelope} with key hint ${keyId}`);
        }
      } catch (err) {
        failures.push(failure('sigstore_bundle_invalid', `${path}: ${(err as Error).message}`, { path }));
        tokens.length = 0;
      }
      const token = tokens[0];
      if (token && envelope?.signatures[0]) {
        anyToken = true;
        const t = await verifyCanonicalTimestamp(token, { data: decodeBase64(envelope.signatures[0].sig), ...anchors });
        for (const f of t.failures) failures.push({ ...f, message: `${path}: ${f.message}`, path });
        timestamp = describeTimestamp(t, 'signature');
        if (t.ok && t.genTime) {
          if (assertedAt.getTime() > t.genTime.getTime() + skew) {
            failures.push(failure('timestamp_time_inconsistent', `the signature was timestamped at ${t.genTime.toISOString()}, before the manifest's createdAt (${manifest.createdAt}) says it was made`, { path }));
          }
          if (t.trusted) proven = { genTime: t.genTime, ...(t.tsa ? { tsa: t.tsa } : {}) };
        }
        if (options.requireTimestamp && t.ok && !t.trusted) {
          failures.push(failure('timestamp_untrusted', 'a trusted timestamp is required but no TSA trust anchor was supplied', { path }));
        }
      }
    }
  } else {
    const tsr = c.meta.get(BUNDLE_ENTRIES.timestamp);
    const recorded = manifest.timestamp?.sha256;
    const path = BUNDLE_ENTRIES.timestamp;
    if (tsr && !recorded) {
      failures.push(failure('file_unexpected', 'timestamp.tsr is present but the signed manifest records no timestamp', { path }));
    } else if (!tsr && recorded) {
      failures.push(failure('timestamp_missing', 'the manifest records a timestamp but timestamp.tsr is missing', { path }));
    } else if (tsr && recorded && createHash('sha256').update(tsr).digest('hex') !== recorded) {
      // Not the token that was signed for: no point checking its cryptography.
      failures.push(failure('digest_mismatch', 'timestamp.tsr differs from the token the manifest records', { path }));
    } else if (tsr) {
      anyToken = true;
      const t = await verifyTimestamp(tsr, { data: merkleRootFileContent(manifest.merkle.root), ...anchors });
      for (const f of t.failures) failures.push({ ...f, path });
      timestamp = describeTimestamp(t, 'root');
      if (t.genTime && t.genTime.getTime() < assertedAt.getTime() - skew) {
        failures.push(failure('timestamp_time_inconsistent', `the timestamp (${t.genTime.toISOString()}) predates the manifest's createdAt (${manifest.createdAt})`, { path }));
      }
      if (options.requireTimestamp && t.ok && !t.trusted) {
        failures.push(failure('timestamp_untrusted', 'a trusted timestamp is required but no TSA trust anchor was supplied', { path }));
      }
    }
  }
  if (!anyToken && options.requireTimestamp && !failures.some((f) => f.code === 'timestamp_missing')) {
    failures.push(
      failure('timestamp_missing', `the bundle carries no RFC 3161 timestamp and one is required`, { path: v1 ? BUNDLE_ENTRIES.timestamp : BUNDLE_ENTRIES.sigstore }),
    );
  }

  // The key against the time: a proven time must fall inside the key's window (whatever createdAt says).
  if (options.keyring && record && key) {
    if (proven) {
      const check = options.keyring.checkKey(keyId, provenInstant(proven.genTime, options.keyring.get(keyId)?.notBefore));
      if (!check.ok) {
        failures.push(
          failure(
            check.code,
            `the TSA proves the signature existed at ${proven.genTime.toISOString()}, when key ${keyId} could not sign: ${check.message}`,
            { keyId, path: BUNDLE_ENTRIES.sigstore },
          ),
        );
      }
    } else if (record.notAfter) {
      const message = `key ${keyId} is valid only until ${record.notAfter.toISOString()}; that it signed before then rests on createdAt (${manifest.createdAt}), the signer's word`;
      if (options.requireTimestamp) {
        failures.push(
          failure('key_time_unproven', `${message}, and no trusted TSA time over the signature proves it${v1 && timestamp ? ' (the v1 timestamp covers the Merkle root: it shows when the files existed, not when they were signed)' : ''}`, { keyId }),
        );
      } else {
        notes.push(`${message} — a retired key can still sign a backdated bundle; verify with a TSA-timestamped bundle and --require-timestamp to rule that out`);
      }
    }
  }

  const signingTime: SigningTime = proven
    ? { source: 'tsa', time: proven.genTime.toISOString(), asserted: manifest.createdAt, ...(proven.tsa ? { tsa: proven.tsa } : {}) }
    : { source: 'asserted', time: manifest.createdAt, asserted: manifest.createdAt };
  if (!proven && timestamp && !timestamp.trusted && !options.tsaTrustAnchors) {
    notes.push('a timestamp is present but no TSA trust anchor was supplied, so it proves nothing yet (pass the TSA root)');
  }

  return {
    ok: failures.length === 0,
    failures,
    format: manifest.format,
    manifest,
    manifestDigest,
    root,
    signer: manifest.signer,
    createdAt: manifest.createdAt,
    signingTime,
    ...base,
    ...(timestamp ? { timestamp } : {}),
  };
}

/**
 * The instant of a TSA time to check a key's window at. A genTime without fractional seconds
 * (what `openssl ts` and most TSAs issue) stands for the whole second it names, so a key
 * activated earlier in that same second was valid at some instant the token covers: check at the
 * first instant of that second that is not before the key's start.
 */
function provenInstant(genTime: Date, notBefore: Date | undefined): Date {
  const t = genTime.getTime();
  if (!notBefore || t % 1000 !== 0) return genTime;
  return new Date(Math.min(Math.max(t, notBefore.getTime()), t + 999));
}
