import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { decodeBase64 } from '../encoding/base64.js';
import { ForensicsError } from '../errors.js';
import { parseDsseEnvelope, verifyDsse } from '../dsse/dsse.js';
import type { Keyring } from '../keys/keyring.js';
import { loadPublicKey, verifySignature, type SignatureAlgorithm, type VerificationKey } from '../keys/signer.js';
import { merkleRoot } from '../merkle/merkle.js';
import { verifyTimestamp } from '../timestamp/rfc3161.js';
import { failure, type VerificationFailure } from '../verification-failure.js';
import {
  BUNDLE_ENTRIES,
  CONTENT_PREFIX,
  MANIFEST_PAYLOAD_TYPE,
  manifestLeafHash,
  merkleRootFileContent,
  parseManifest,
  serializeManifest,
  type EvidenceManifest,
  type ManifestFile,
} from './manifest.js';
import { comparePaths, readTar } from './tar.js';

/** Metadata entries are read whole; anything larger than this is refused rather than buffered. */
const MAX_META_BYTES = 64 * 1024 * 1024;
const META_NAMES = new Set<string>(Object.values(BUNDLE_ENTRIES));

export interface VerifyBundleOptions {
  /** Trusted public key(s): SPKI PEM, KeyObject or loaded keys. Either this or `keyring`. */
  readonly publicKey?: string | KeyObject | VerificationKey | readonly (string | KeyObject | VerificationKey)[];
  /** Trusted key ring: the signer must be in it, unrevoked and valid at the manifest's createdAt. */
  readonly keyring?: Keyring;
  /** PEM root certificates of trusted TSAs; without them a timestamp is checked but reported untrusted. */
  readonly tsaTrustAnchors?: readonly string[];
  /** Fail unless a timestamp is present and chains to `tsaTrustAnchors`. Default false. */
  readonly requireTimestamp?: boolean;
  /** How far genTime may precede createdAt (clock skew between builder and TSA). Default 300 s. */
  readonly timestampSkewSeconds?: number;
  /** Read buffer for content files. Default 1 MiB. */
  readonly chunkSize?: number;
}

export interface BundleVerification {
  readonly ok: boolean;
  readonly failures: readonly VerificationFailure[];
  readonly manifest?: EvidenceManifest;
  /** Hex SHA-256 of manifest.json. */
  readonly manifestDigest?: string;
  /** Merkle root recomputed from the files actually present. */
  readonly root?: string;
  readonly signer?: { readonly keyId: string; readonly algorithm: SignatureAlgorithm };
  readonly createdAt?: string;
  readonly fileCount: number;
  readonly contentBytes: number;
  readonly timestamp?: { readonly genTime: string; readonly trusted: boolean; readonly tsa?: string; readonly serialNumber?: string };
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

/** Verifies a bundle on disk: a directory or a `.tar` file. */
export async function verifyBundle(location: string, options: VerifyBundleOptions): Promise<BundleVerification> {
  let info;
  try {
    info = await stat(location);
  } catch (cause) {
    throw new ForensicsError('io_error', `cannot open bundle ${location}: ${(cause as Error).message}`, { cause });
  }
  if (info.isDirectory()) return verifyBundleDirectory(location, options);
  return verifyBundleStream(createReadStream(location, { highWaterMark: options.chunkSize ?? 1 << 20 }), options);
}

/** Verifies a bundle tar read from a stream (e.g. straight from object storage). */
export async function verifyBundleStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: VerifyBundleOptions): Promise<BundleVerification> {
  checkOptions(options);
  const c = emptyCollected();
  let problems;
  try {
    problems = await readTar(source, (h) => {
      c.mtimes.add(h.mtimeSeconds);
      return entrySink(c, h.path, h.size);
    });
  } catch (cause) {
    throw new ForensicsError('io_error', `reading the bundle failed: ${(cause as Error).message}`, { cause });
  }
  for (const p of problems) c.problems.push(failure(p.code, p.message, p.path ? { path: p.path } : {}));
  return evaluate(c, options, true);
}

/** Verifies an unpacked bundle directory. */
export async function verifyBundleDirectory(dir: string, options: VerifyBundleOptions): Promise<BundleVerification> {
  checkOptions(options);
  const c = emptyCollected();
  const chunkSize = options.chunkSize ?? 1 << 20;
  const hashFile = async (abs: string, rel: string, size: number): Promise<void> => {
    const sink = entrySink(c, rel, size);
    // A read buffer no bigger than the file: small files must not each allocate a full chunk.
    for await (const chunk of createReadStream(abs, { highWaterMark: Math.max(1, Math.min(chunkSize, size)) })) sink.write(chunk as Buffer);
    sink.end();
  };
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) => comparePaths(a.name, b.name));
    for (const e of entries) {
      const childAbs = join(abs, e.name);
      const childRel = rel + e.name;
      if (e.isDirectory()) {
        if (rel === '' && `${e.name}/` !== CONTENT_PREFIX) c.problems.push(failure('file_unexpected', `${childRel}/ is not part of the bundle format`, { path: `${childRel}/` }));
        else await walk(childAbs, `${childRel}/`);
      } else if (e.isFile()) {
        await hashFile(childAbs, childRel, (await stat(childAbs)).size);
      } else {
        c.problems.push(failure('file_unexpected', `${childRel} is not a regular file (links are not allowed in bundles)`, { path: childRel }));
      }
    }
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

async function evaluate(c: Collected, options: VerifyBundleOptions, isTar: boolean): Promise<BundleVerification> {
  const failures: VerificationFailure[] = [...c.problems];
  let contentBytes = 0;
  for (const v of c.content.values()) contentBytes += v.size;
  const base = { fileCount: c.content.size, contentBytes };
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
    if (!serializeManifest(manifest).equals(manifestBytes)) throw new Error('manifest.json is not in canonical form (sorted keys, two-space indent, final newline)');
  } catch (err) {
    failures.push(failure('manifest_invalid', (err as Error).message, { path: BUNDLE_ENTRIES.manifest }));
    return { ok: false, failures, manifestDigest, ...base };
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

  if (isTar) {
    const expected = Math.floor(new Date(manifest.createdAt).getTime() / 1000);
    if ([...c.mtimes].some((m) => m !== expected)) {
      failures.push(failure('archive_noncanonical', `tar entry times differ from the manifest's createdAt (${manifest.createdAt})`));
    }
  }

  // Which key may have signed: the one the manifest names, if trusted and valid at createdAt.
  const signedAt = new Date(manifest.createdAt);
  const keyId = manifest.signer.keyId;
  let key: VerificationKey | undefined;
  if (options.keyring) {
    const check = options.keyring.checkKey(keyId, signedAt);
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

  if (sigText) {
    let sig: Buffer | undefined;
    try {
      sig = decodeBase64(sigText.toString('ascii').trim(), 'manifest.sig');
    } catch {
      failures.push(failure('signature_invalid', 'manifest.sig is not base64', { path: BUNDLE_ENTRIES.signature }));
    }
    if (sig && key && !verifySignature(key, manifestBytes, sig)) {
      failures.push(failure('signature_invalid', `manifest.sig does not verify over manifest.json with key ${keyId}`, { path: BUNDLE_ENTRIES.signature, keyId }));
    }
  }

  const envBytes = c.meta.get(BUNDLE_ENTRIES.envelope);
  if (!envBytes) {
    failures.push(failure('envelope_missing', 'manifest.dsse.json is missing', { path: BUNDLE_ENTRIES.envelope }));
  } else {
    try {
      const env = parseDsseEnvelope(envBytes);
      // Only the builder's exact serialization is accepted: DSSE leaves keyid and unknown fields
      // unauthenticated, and a bundle must not carry bytes that can change unnoticed.
      if (!envBytes.equals(Buffer.from(`${JSON.stringify(env, null, 2)}\n`, 'utf8'))) {
        failures.push(failure('envelope_invalid', 'manifest.dsse.json is not in canonical form (altered outside its signed payload)', { path: BUNDLE_ENTRIES.envelope }));
      }
      const payload = decodeBase64(env.payload);
      if (!payload.equals(manifestBytes)) {
        failures.push(failure('envelope_payload_mismatch', 'manifest.dsse.json signs different bytes than manifest.json', { path: BUNDLE_ENTRIES.envelope }));
      }
      if (key) {
        const v = verifyDsse(env, { keys: [key], payloadType: MANIFEST_PAYLOAD_TYPE });
        for (const f of v.failures) {
          if (f.code === 'threshold_not_met' && v.failures.length > 1) continue;
          failures.push({ ...f, message: `manifest.dsse.json: ${f.message}`, path: BUNDLE_ENTRIES.envelope });
        }
      } else if (env.payloadType !== MANIFEST_PAYLOAD_TYPE) {
        failures.push(failure('payload_type_mismatch', `manifest.dsse.json has payload type ${env.payloadType}`, { path: BUNDLE_ENTRIES.envelope }));
      }
    } catch (err) {
      failures.push(failure('envelope_invalid', `manifest.dsse.json: ${(err as Error).message}`, { path: BUNDLE_ENTRIES.envelope }));
    }
  }

  let timestamp: BundleVerification['timestamp'];
  const tsr = c.meta.get(BUNDLE_ENTRIES.timestamp);
  const recorded = manifest.timestamp?.sha256;
  if (tsr && !recorded) {
    failures.push(failure('file_unexpected', 'timestamp.tsr is present but the signed manifest records no timestamp', { path: BUNDLE_ENTRIES.timestamp }));
  } else if (!tsr && recorded) {
    failures.push(failure('timestamp_missing', 'the manifest records a timestamp but timestamp.tsr is missing', { path: BUNDLE_ENTRIES.timestamp }));
  } else if (tsr && recorded && createHash('sha256').update(tsr).digest('hex') !== recorded) {
    // Not the token that was signed for: no point checking its cryptography.
    failures.push(failure('digest_mismatch', 'timestamp.tsr differs from the token the manifest records', { path: BUNDLE_ENTRIES.timestamp }));
  } else if (tsr) {
    const t = await verifyTimestamp(tsr, {
      data: merkleRootFileContent(manifest.merkle.root),
      ...(options.tsaTrustAnchors ? { trustAnchors: options.tsaTrustAnchors } : {}),
    });
    for (const f of t.failures) failures.push({ ...f, path: BUNDLE_ENTRIES.timestamp });
    if (t.genTime) {
      timestamp = { genTime: t.genTime.toISOString(), trusted: t.trusted, ...(t.tsa ? { tsa: t.tsa } : {}), ...(t.serialNumber ? { serialNumber: t.serialNumber } : {}) };
      const skew = (options.timestampSkewSeconds ?? 300) * 1000;
      if (t.genTime.getTime() < signedAt.getTime() - skew) {
        failures.push(failure('timestamp_time_inconsistent', `the timestamp (${t.genTime.toISOString()}) predates the manifest's createdAt (${manifest.createdAt})`, { path: BUNDLE_ENTRIES.timestamp }));
      }
    }
    if (options.requireTimestamp && t.ok && !t.trusted) {
      failures.push(failure('timestamp_untrusted', 'a trusted timestamp is required but no TSA trust anchor was supplied', { path: BUNDLE_ENTRIES.timestamp }));
    }
  }
  if (!tsr && !recorded && options.requireTimestamp) {
    failures.push(failure('timestamp_missing', 'timestamp.tsr is missing and a timestamp is required', { path: BUNDLE_ENTRIES.timestamp }));
  }

  return {
    ok: failures.length === 0,
    failures,
    manifest,
    manifestDigest,
    root,
    signer: manifest.signer,
    createdAt: manifest.createdAt,
    ...base,
    ...(timestamp ? { timestamp } : {}),
  };
}
