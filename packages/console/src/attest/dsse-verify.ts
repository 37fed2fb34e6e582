/**
 * DSSE verification in the browser, with WebCrypto only: the envelope's signatures over the
 * DSSE pre-authentication encoding (PAE), checked against a key ring whose signed rotation log
 * is replayed here (hash chain, order, signatures, validity windows, revocations) rather than
 * taken on the service's word; the payload read as an in-toto Statement v1 or an evidence
 * manifest; and an artifact's SHA-256 matched against the statement's subjects (or the
 * manifest's files). The rules are the forensics library's: ECDSA P-256 signatures in strict
 * DER with a low S, Ed25519 signatures of 64 bytes, standard or URL-safe base64 in its one
 * canonical spelling, a key valid (and never revoked) at the signing time.
 *
 * Pure: no DOM, no network. `subtle` is the WebCrypto `SubtleCrypto` (the browser's, or Node's
 * `globalThis.crypto.subtle` in tests).
 */

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.stellaops.evidence-manifest+json';
export const ROTATION_PAYLOAD_TYPE = 'application/vnd.stellaops.key-rotation+json';

export type SignatureAlgorithm = 'ecdsa-p256-sha256' | 'ed25519';

/** What this module asks of WebCrypto. */
export type Subtle = Pick<SubtleCrypto, 'importKey' | 'verify' | 'digest'>;

/** Order n of the P-256 group. */
export const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

export class VerifyInputError extends Error {
  override readonly name = 'VerifyInputError';
}

// ---------------------------------------------------------------------------------------------
// Bytes: base64, hex, UTF-8, PEM

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Standard or URL-safe base64 (DSSE allows either), padded or not — but only the one canonical
 * spelling of its bytes: no stray characters, no non-zero unused bits, no wrong padding, so a
 * flipped character in a signature never goes unseen.
 */
export function decodeBase64(text: string, what = 'value'): Uint8Array {
  if (typeof text !== 'string' || (!STANDARD.test(text) && !URL_SAFE.test(text))) throw new VerifyInputError(`${what} is not valid base64`);
  const unpadded = text.replace(/=+$/, '');
  const padding = text.length - unpadded.length;
  const body = unpadded.replace(/-/g, '+').replace(/_/g, '/');
  if (body.length % 4 === 1) throw new VerifyInputError(`${what} is not valid base64`);
  const expectedPadding = (4 - (body.length % 4)) % 4;
  if (padding > 0 && padding !== expectedPadding) throw new VerifyInputError(`${what} is not valid base64`);
  const out = new Uint8Array(Math.floor((body.length * 6) / 8));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of body) {
    value = (value << 6) | B64.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  // The bits left over must be zero: otherwise several spellings would give the same bytes.
  if ((value & ((1 << bits) - 1)) !== 0) throw new VerifyInputError(`${what} is not valid base64`);
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < 4; c++) out += c < chars ? B64[(n >> (18 - 6 * c)) & 63] : '=';
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const utf8 = new TextEncoder();

export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Strict UTF-8 decoding (invalid bytes are an error, not U+FFFD). */
export function utf8Text(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A copy on its own ArrayBuffer: what WebCrypto takes as a BufferSource everywhere. */
function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

export async function sha256Hex(subtle: Subtle, bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await subtle.digest('SHA-256', buffer(bytes))));
}

/** The DER bytes of a PEM block ("BEGIN PUBLIC KEY"). */
export function pemToDer(pem: string): Uint8Array {
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!match) throw new VerifyInputError('not a PEM block');
  return decodeBase64(match[2]!.replace(/\s+/g, ''), 'the PEM body');
}

// ---------------------------------------------------------------------------------------------
// DER: just enough for SubjectPublicKeyInfo and ECDSA signatures

interface Tlv {
  tag: number;
  /** Offset of the content. */
  start: number;
  /** Offset after the content. */
  end: number;
}

/** One strict DER TLV at `at` (definite, minimal lengths). */
function readTlv(bytes: Uint8Array, at: number): Tlv {
  if (at + 2 > bytes.length) throw new VerifyInputError('truncated DER');
  const tag = bytes[at]!;
  let length = bytes[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 3 || start + n > bytes.length) throw new VerifyInputError('unsupported DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = (length << 8) | bytes[start + i]!;
    if (length < 0x80 || (n > 1 && bytes[start] === 0)) throw new VerifyInputError('non-minimal DER length');
    start += n;
  }
  const end = start + length;
  if (end > bytes.length) throw new VerifyInputError('truncated DER');
  return { tag, start, end };
}

function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(bytes, at);
    if (child.end > parent.end) throw new VerifyInputError('DER child overruns its parent');
    out.push(child);
    at = child.end;
  }
  return out;
}

const OID_EC_PUBLIC_KEY = '2a8648ce3d0201';
const OID_P256 = '2a8648ce3d030107';
const OID_ED25519 = '2b6570';

/** The algorithm of an SPKI public key: ECDSA P-256 or Ed25519 (anything else is refused, as by the service). */
export function spkiAlgorithm(der: Uint8Array): SignatureAlgorithm {
  const spki = readTlv(der, 0);
  if (spki.tag !== 0x30 || spki.end !== der.length) throw new VerifyInputError('not a SubjectPublicKeyInfo');
  const [algorithm] = children(der, spki);
  if (!algorithm || algorithm.tag !== 0x30) throw new VerifyInputError('not a SubjectPublicKeyInfo');
  const ids = children(der, algorithm).map((t) => (t.tag === 0x06 ? toHex(der.subarray(t.start, t.end)) : ''));
  if (ids[0] === OID_ED25519) return 'ed25519';
  if (ids[0] === OID_EC_PUBLIC_KEY && ids[1] === OID_P256) return 'ecdsa-p256-sha256';
  throw new VerifyInputError('unsupported key type; the service signs with ECDSA P-256 or Ed25519');
}

function readUnsigned(bytes: Uint8Array, t: Tlv): bigint {
  if (t.tag !== 0x02 || t.end === t.start) throw new Error('expected an INTEGER');
  const content = bytes.subarray(t.start, t.end);
  if (content[0]! & 0x80) throw new Error('negative INTEGER');
  if (content.length > 1 && content[0] === 0 && !(content[1]! & 0x80)) throw new Error('non-minimal INTEGER');
  let n = 0n;
  for (const b of content) n = (n << 8n) | BigInt(b);
  return n;
}

function bigintBytes(n: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export type SignatureProblem = 'signature_malformed' | 'signature_high_s' | 'signature_invalid';

/**
 * An ECDSA P-256 signature as WebCrypto takes it (r ‖ s, 32 bytes each), from the DER the
 * service writes — refused unless strict DER with r, s in [1, n−1] and s ≤ n/2 (the mirror
 * image (r, n−s) of a valid signature is bytes the signer never wrote).
 */
export function ecdsaDerToRaw(der: Uint8Array): { ok: true; raw: Uint8Array } | { ok: false; code: SignatureProblem; message: string } {
  let r: bigint;
  let s: bigint;
  try {
    const seq = readTlv(der, 0);
    if (seq.tag !== 0x30 || seq.end !== der.length) throw new Error('not a SEQUENCE');
    const parts = children(der, seq);
    if (parts.length !== 2) throw new Error('expected exactly r and s');
    r = readUnsigned(der, parts[0]!);
    s = readUnsigned(der, parts[1]!);
    if (r <= 0n || r >= P256_ORDER || s <= 0n || s >= P256_ORDER) throw new Error('r or s out of range');
  } catch (error) {
    return { ok: false, code: 'signature_malformed', message: `the ECDSA signature is not strict DER: ${(error as Error).message}` };
  }
  if (s > P256_ORDER / 2n) return { ok: false, code: 'signature_high_s', message: 'the ECDSA signature has a high S value (s > n/2); only the low-S form is accepted' };
  return { ok: true, raw: concat(bigintBytes(r, 32), bigintBytes(s, 32)) };
}

// ---------------------------------------------------------------------------------------------
// DSSE

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/**
 * Pre-Authentication Encoding (DSSE v1): "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * lengths as ASCII decimal byte counts.
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8Bytes(payloadType);
  return concat(utf8Bytes(`DSSEv1 ${type.length} `), type, utf8Bytes(` ${payload.length} `), payload);
}

/** The envelope's shape, from JSON text or a parsed value; throws VerifyInputError saying what is wrong. */
export function parseEnvelope(input: unknown): DsseEnvelope {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new VerifyInputError('the file is not JSON');
    }
  }
  const env = value as { payload?: unknown; payloadType?: unknown; signatures?: unknown } | null;
  if (!env || typeof env !== 'object' || Array.isArray(env)) throw new VerifyInputError('a DSSE envelope is a JSON object');
  if (typeof env.payload !== 'string') throw new VerifyInputError('the envelope lacks a string "payload"');
  if (typeof env.payloadType !== 'string' || env.payloadType === '') throw new VerifyInputError('the envelope lacks a "payloadType"');
  if (!Array.isArray(env.signatures)) throw new VerifyInputError('the envelope lacks a "signatures" array');
  const signatures = env.signatures.map((s: unknown, i: number) => {
    const sig = s as { keyid?: unknown; sig?: unknown } | null;
    if (!sig || typeof sig.sig !== 'string') throw new VerifyInputError(`signature ${i} lacks a string "sig"`);
    if (sig.keyid !== undefined && typeof sig.keyid !== 'string') throw new VerifyInputError(`signature ${i} has a non-string "keyid"`);
    return { keyid: (sig.keyid as string | undefined) ?? '', sig: sig.sig };
  });
  decodeBase64(env.payload, 'the payload');
  return { payload: env.payload, payloadType: env.payloadType, signatures };
}

// ---------------------------------------------------------------------------------------------
// Keys and the key ring

export interface TrustedKey {
  keyId: string;
  algorithm: SignatureAlgorithm;
  spki: Uint8Array;
  notBefore: Date;
  /** Exclusive end of validity. */
  notAfter?: Date;
  revokedAt?: Date;
  revocationReason?: string;
}

export type KeyProblem = 'key_unknown' | 'key_outside_validity' | 'key_revoked';

/** A public key from its PEM: its algorithm and key id (hex SHA-256 of the DER SubjectPublicKeyInfo). */
export async function readPublicKey(subtle: Subtle, pem: string): Promise<{ keyId: string; algorithm: SignatureAlgorithm; spki: Uint8Array }> {
  const spki = pemToDer(pem);
  return { keyId: await sha256Hex(subtle, spki), algorithm: spkiAlgorithm(spki), spki };
}

/** May `keyId` have signed at `at`: known, never revoked, inside [notBefore, notAfter). */
export function checkKey(keys: readonly TrustedKey[], keyId: string, at: Date): { ok: true; key: TrustedKey } | { ok: false; code: KeyProblem; message: string } {
  const key = keys.find((k) => k.keyId === keyId);
  if (!key) return { ok: false, code: 'key_unknown', message: `key ${keyId} is not in the key ring` };
  if (key.revokedAt) {
    return { ok: false, code: 'key_revoked', message: `key ${keyId} was revoked at ${key.revokedAt.toISOString()}${key.revocationReason ? ` (${key.revocationReason})` : ''}` };
  }
  const t = at.getTime();
  if (Number.isNaN(t) || t < key.notBefore.getTime() || (key.notAfter && t >= key.notAfter.getTime())) {
    return {
      ok: false,
      code: 'key_outside_validity',
      message: `key ${keyId} is valid from ${key.notBefore.toISOString()}${key.notAfter ? ` until ${key.notAfter.toISOString()}` : ''}, not at ${Number.isNaN(t) ? 'an invalid time' : at.toISOString()}`,
    };
  }
  return { ok: true, key };
}

/** Checks one raw signature (DER for ECDSA) over `message` with WebCrypto. Never throws. */
export async function verifySignature(subtle: Subtle, key: Pick<TrustedKey, 'algorithm' | 'spki'>, message: Uint8Array, signature: Uint8Array): Promise<{ ok: true } | { ok: false; code: SignatureProblem; message: string }> {
  try {
    if (key.algorithm === 'ed25519') {
      if (signature.length !== 64) return { ok: false, code: 'signature_malformed', message: `an Ed25519 signature is 64 bytes, not ${signature.length}` };
      const publicKey = await subtle.importKey('spki', buffer(key.spki), { name: 'Ed25519' }, false, ['verify']);
      const ok = await subtle.verify({ name: 'Ed25519' }, publicKey, buffer(signature), buffer(message));
      return ok ? { ok: true } : { ok: false, code: 'signature_invalid', message: 'the signature does not verify' };
    }
    const raw = ecdsaDerToRaw(signature);
    if (!raw.ok) return raw;
    const publicKey = await subtle.importKey('spki', buffer(key.spki), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const ok = await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, buffer(raw.raw), buffer(message));
    return ok ? { ok: true } : { ok: false, code: 'signature_invalid', message: 'the signature does not verify' };
  } catch (error) {
    return { ok: false, code: 'signature_invalid', message: `the signature could not be checked: ${(error as Error).message}` };
  }
}

interface RotationEntry {
  seq?: unknown;
  prev?: unknown;
  op?: unknown;
  at?: unknown;
  keyId?: unknown;
  publicKeyPem?: unknown;
  notBefore?: unknown;
  notAfter?: unknown;
  reason?: unknown;
}

function isoTime(value: unknown, what: string): Date {
  const d = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (typeof value !== 'string' || Number.isNaN(d.getTime()) || d.toISOString() !== value) throw new VerifyInputError(`${what} is not an ISO-8601 UTC time`);
  return d;
}

/** Does any of `keys` sign `envelope` (over its PAE)? */
async function signedByAny(subtle: Subtle, envelope: DsseEnvelope, keys: readonly TrustedKey[]): Promise<boolean> {
  const message = pae(envelope.payloadType, decodeBase64(envelope.payload, 'the payload'));
  for (const s of envelope.signatures) {
    let sig: Uint8Array;
    try {
      sig = decodeBase64(s.sig, 'a signature');
    } catch {
      continue;
    }
    for (const key of keys.filter((k) => !s.keyid || k.keyId === s.keyid)) if ((await verifySignature(subtle, key, message, sig)).ok) return true;
  }
  return false;
}

export interface ReplayedKeyring {
  keys: TrustedKey[];
  entries: number;
  /** The key the log starts with (trusted as served: compare it with the one you were given out of band). */
  rootKeyId: string;
}

/**
 * Replays a key ring's signed rotation log (`GET /evidence/keyring` → `log`) the way the
 * service's key ring does: each entry a DSSE envelope of the rotation payload type, in sequence,
 * chained by the SHA-256 of the previous payload, never going back in time; the first adds a key
 * and is signed by it, every later one is signed by a key active at its time. Throws
 * VerifyInputError naming the first entry that fails.
 */
export async function replayKeyring(subtle: Subtle, log: readonly unknown[]): Promise<ReplayedKeyring> {
  if (!Array.isArray(log) || log.length === 0) throw new VerifyInputError('the key ring has no rotation log');
  const keys = new Map<string, TrustedKey>();
  let prev = '0'.repeat(64);
  let lastAt: Date | undefined;
  let rootKeyId = '';
  for (const [seq, raw] of log.entries()) {
    const bad = (message: string): never => {
      throw new VerifyInputError(`rotation log entry ${seq}: ${message}`);
    };
    let envelope: DsseEnvelope;
    try {
      envelope = parseEnvelope(raw);
    } catch (error) {
      return bad((error as Error).message);
    }
    if (envelope.payloadType !== ROTATION_PAYLOAD_TYPE) bad(`payload type must be ${ROTATION_PAYLOAD_TYPE}`);
    const payload = decodeBase64(envelope.payload, 'the payload');
    let entry: RotationEntry;
    try {
      entry = JSON.parse(utf8Text(payload)) as RotationEntry;
    } catch {
      return bad('payload is not JSON');
    }
    if (entry.seq !== seq) bad(`sequence number ${String(entry.seq)} out of order`);
    if (entry.prev !== prev) bad('does not chain to the previous entry (the log was altered or reordered)');
    if (entry.op !== 'add' && entry.op !== 'retire' && entry.op !== 'revoke') bad(`unknown op ${String(entry.op)}`);
    if (typeof entry.keyId !== 'string') bad('lacks a keyId');
    const keyId = entry.keyId as string;
    let at: Date;
    try {
      at = isoTime(entry.at, '"at"');
    } catch (error) {
      return bad((error as Error).message);
    }
    if (lastAt && at.getTime() < lastAt.getTime()) bad('time goes backwards');

    let added: TrustedKey | undefined;
    if (entry.op === 'add') {
      if (typeof entry.publicKeyPem !== 'string') bad('"add" lacks publicKeyPem');
      let key: Awaited<ReturnType<typeof readPublicKey>>;
      try {
        key = await readPublicKey(subtle, entry.publicKeyPem as string);
      } catch {
        return bad('"add" carries an unusable public key');
      }
      if (key.keyId !== keyId) bad('keyId does not match the public key');
      if (keys.has(keyId)) bad(`key ${keyId} was already added`);
      let notBefore: Date;
      let notAfter: Date | undefined;
      try {
        notBefore = isoTime(entry.notBefore ?? entry.at, '"notBefore"');
        notAfter = entry.notAfter === undefined ? undefined : isoTime(entry.notAfter, '"notAfter"');
      } catch (error) {
        return bad((error as Error).message);
      }
      if (notAfter && notAfter.getTime() <= notBefore.getTime()) bad('notAfter must be after notBefore');
      added = { ...key, notBefore, ...(notAfter ? { notAfter } : {}) };
    } else if (!keys.has(keyId)) {
      bad(`"${String(entry.op)}" names unknown key ${keyId}`);
    }

    if (seq === 0) {
      if (!added) return bad('the first entry must add a key');
      if (!(await signedByAny(subtle, envelope, [added]))) bad('the first entry is not signed by the key it adds');
      rootKeyId = added.keyId;
    } else {
      const active = [...keys.values()].filter((k) => checkKey([k], k.keyId, at).ok);
      if (active.length === 0 || !(await signedByAny(subtle, envelope, active))) bad(`not signed by a key active at ${String(entry.at)}`);
    }

    if (added) keys.set(added.keyId, added);
    else {
      const k = keys.get(keyId)!;
      if (k.revokedAt) bad(`key ${keyId} is already revoked`);
      if (entry.op === 'retire') keys.set(keyId, { ...k, notAfter: k.notAfter && k.notAfter.getTime() < at.getTime() ? k.notAfter : at });
      else keys.set(keyId, { ...k, revokedAt: at, ...(typeof entry.reason === 'string' ? { revocationReason: entry.reason } : {}) });
    }
    prev = await sha256Hex(subtle, payload);
    lastAt = at;
  }
  return { keys: [...keys.values()], entries: log.length, rootKeyId };
}

// ---------------------------------------------------------------------------------------------
// The whole verification, as a list of checks

export type CheckId = 'envelope' | 'keyring' | 'payload' | 'time' | 'signature' | 'signers' | 'artifact';

export interface Check {
  id: CheckId;
  label: string;
  /** undefined: not run (no artifact given, or an earlier check failed). */
  ok: boolean | undefined;
  detail: string;
  /** The failure's code, as the service names it (`signature_invalid`, `key_unknown`, `subject_mismatch`, …). */
  code?: string;
}

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface BrowserVerification {
  ok: boolean;
  checks: Check[];
  payloadType?: string;
  /** The in-toto statement, when the payload is one. */
  statement?: { predicateType: string; subject: Subject[]; predicate: unknown };
  /** The evidence manifest, when the payload is one. */
  manifest?: { bundleId?: string; tenant?: string; kind?: string; createdAt?: string; files: { path: string; sha256: string; size: number }[] };
  signedAt?: string;
  signedAtSource?: 'statement' | 'manifest' | 'now';
  signerKeyIds: string[];
  matched?: string;
}

export interface VerifyOptions {
  subtle: Subtle;
  /** The envelope file's text. */
  envelope: string;
  /** The key ring's signed rotation log (`GET /evidence/keyring` → `log`). */
  keyringLog: readonly unknown[];
  /** The artifact file, to match against the subjects. */
  artifact?: { name: string; bytes: Uint8Array };
  /** When no time is in the payload. Default: now. */
  now?: Date;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function readPayload(payloadType: string, body: Uint8Array): { kind: 'statement'; statement: NonNullable<BrowserVerification['statement']> } | { kind: 'manifest'; manifest: NonNullable<BrowserVerification['manifest']> } | { kind: 'other'; problem?: string } {
  let value: unknown;
  try {
    value = JSON.parse(utf8Text(body));
  } catch {
    return { kind: 'other', problem: payloadType === IN_TOTO_PAYLOAD_TYPE || payloadType === MANIFEST_PAYLOAD_TYPE ? 'the payload is not JSON' : undefined };
  }
  const v = value as Record<string, unknown> | null;
  if (payloadType === IN_TOTO_PAYLOAD_TYPE) {
    if (!v || v['_type'] !== IN_TOTO_STATEMENT_V1) return { kind: 'other', problem: `the statement's _type is ${JSON.stringify(v?.['_type'])}, expected ${IN_TOTO_STATEMENT_V1}` };
    const subject = v['subject'];
    if (!Array.isArray(subject) || subject.length === 0) return { kind: 'other', problem: 'the statement has no subjects' };
    const subjects = subject.filter((s): s is Subject => !!s && typeof s === 'object' && typeof (s as Subject).name === 'string' && !!(s as Subject).digest && typeof (s as Subject).digest === 'object');
    if (subjects.length !== subject.length) return { kind: 'other', problem: 'each subject needs a name and a digest' };
    return { kind: 'statement', statement: { predicateType: String(v['predicateType'] ?? ''), subject: subjects, predicate: v['predicate'] } };
  }
  if (payloadType === MANIFEST_PAYLOAD_TYPE) {
    const files = Array.isArray(v?.['files']) ? (v['files'] as { path: string; sha256: string; size: number }[]) : undefined;
    if (!v || !files) return { kind: 'other', problem: 'the evidence manifest has no file list' };
    return {
      kind: 'manifest',
      manifest: {
        files,
        ...(typeof v['bundleId'] === 'string' ? { bundleId: v['bundleId'] } : {}),
        ...(typeof v['tenant'] === 'string' ? { tenant: v['tenant'] } : {}),
        ...(typeof v['kind'] === 'string' ? { kind: v['kind'] } : {}),
        ...(typeof v['createdAt'] === 'string' ? { createdAt: v['createdAt'] } : {}),
      },
    };
  }
  return { kind: 'other' };
}

/** The time a statement says it was made: runDetails.metadata.finishedOn, else startedOn. */
export function statementTime(predicate: unknown): string | undefined {
  const md = (predicate as { runDetails?: { metadata?: { finishedOn?: unknown; startedOn?: unknown } } } | null)?.runDetails?.metadata;
  const t = md?.finishedOn ?? md?.startedOn;
  return typeof t === 'string' && !Number.isNaN(new Date(t).getTime()) ? t : undefined;
}

/**
 * Verifies an envelope file against a key ring, and optionally an artifact against its
 * subjects. Each step is a check with its outcome; `ok` only when every check that ran passed
 * and a trusted key signed.
 */
export async function verifyEnvelopeFile(options: VerifyOptions): Promise<BrowserVerification> {
  const { subtle } = options;
  const checks: Check[] = [];
  const result: BrowserVerification = { ok: false, checks, signerKeyIds: [] };
  const done = (): BrowserVerification => ({ ...result, ok: checks.length > 0 && checks.every((c) => c.ok !== false) && result.signerKeyIds.length > 0 });

  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(options.envelope);
    checks.push({ id: 'envelope', label: 'DSSE envelope', ok: true, detail: `payload type ${envelope.payloadType}, ${envelope.signatures.length} signature${envelope.signatures.length === 1 ? '' : 's'}` });
  } catch (error) {
    checks.push({ id: 'envelope', label: 'DSSE envelope', ok: false, code: 'envelope_invalid', detail: (error as Error).message });
    return done();
  }
  result.payloadType = envelope.payloadType;
  const body = decodeBase64(envelope.payload, 'the payload');

  let ring: ReplayedKeyring | undefined;
  try {
    ring = await replayKeyring(subtle, options.keyringLog);
    checks.push({
      id: 'keyring',
      label: 'Key ring',
      ok: true,
      detail: `rotation log of ${ring.entries} entr${ring.entries === 1 ? 'y' : 'ies'} replayed: hash chain and signatures intact; ${ring.keys.length} key${ring.keys.length === 1 ? '' : 's'}, first key ${ring.rootKeyId}`,
    });
  } catch (error) {
    checks.push({ id: 'keyring', label: 'Key ring', ok: false, code: 'keyring_invalid', detail: (error as Error).message });
  }

  const payload = readPayload(envelope.payloadType, body);
  if (payload.kind === 'statement') {
    result.statement = payload.statement;
    checks.push({ id: 'payload', label: 'Payload', ok: true, detail: `in-toto Statement v1, predicate ${payload.statement.predicateType}, ${payload.statement.subject.length} subject${payload.statement.subject.length === 1 ? '' : 's'}` });
  } else if (payload.kind === 'manifest') {
    result.manifest = payload.manifest;
    checks.push({ id: 'payload', label: 'Payload', ok: true, detail: `evidence manifest of bundle ${payload.manifest.bundleId ?? '(no id)'}, ${payload.manifest.files.length} files` });
  } else if (payload.problem) {
    checks.push({ id: 'payload', label: 'Payload', ok: false, code: 'statement_invalid', detail: payload.problem });
  } else {
    checks.push({ id: 'payload', label: 'Payload', ok: true, detail: `payload type ${envelope.payloadType}: the signature is checked, the payload is not interpreted` });
  }

  // When the key must have been valid: the payload's own time (asserted by the signer), else now.
  const claimed = result.statement ? statementTime(result.statement.predicate) : result.manifest?.createdAt;
  const signedAt = claimed ? new Date(claimed) : (options.now ?? new Date());
  result.signedAt = signedAt.toISOString();
  result.signedAtSource = claimed ? (result.statement ? 'statement' : 'manifest') : 'now';
  checks.push({
    id: 'time',
    label: 'Signing time',
    ok: true,
    detail: claimed
      ? `${result.signedAt}, as the ${result.statement ? 'statement (finishedOn/startedOn)' : 'manifest (createdAt)'} asserts it — the signer's word, not a timestamp authority's proof`
      : `${result.signedAt} (now): the payload names no time`,
  });

  const message = pae(envelope.payloadType, body);
  const signers = new Set<string>();
  if (envelope.signatures.length === 0) checks.push({ id: 'signature', label: 'Signatures', ok: false, code: 'signature_missing', detail: 'the envelope carries no signatures' });
  for (const [i, s] of envelope.signatures.entries()) {
    const label = `Signature ${i + 1}${s.keyid ? ` by key ${s.keyid.slice(0, 16)}…` : ''}`;
    if (!ring) {
      checks.push({ id: 'signature', label, ok: undefined, detail: 'not checked: the key ring did not verify' });
      continue;
    }
    let sig: Uint8Array;
    try {
      sig = decodeBase64(s.sig, `signature ${i + 1}`);
    } catch (error) {
      checks.push({ id: 'signature', label, ok: false, code: 'signature_invalid', detail: (error as Error).message });
      continue;
    }
    const candidates = s.keyid ? [s.keyid] : ring.keys.map((k) => k.keyId);
    const problems: { code: string; message: string }[] = [];
    let good: TrustedKey | undefined;
    for (const id of candidates) {
      const key = checkKey(ring.keys, id, signedAt);
      if (!key.ok) {
        problems.push(key);
        continue;
      }
      const v = await verifySignature(subtle, key.key, message, sig);
      if (v.ok) {
        good = key.key;
        break;
      }
      problems.push(v);
    }
    if (good) {
      signers.add(good.keyId);
      checks.push({ id: 'signature', label, ok: true, detail: `${good.algorithm === 'ed25519' ? 'Ed25519' : 'ECDSA P-256 / SHA-256'} signature over the DSSE PAE verifies with key ${good.keyId}, valid at ${result.signedAt}` });
    } else {
      const first = problems.find((p) => p.code !== 'signature_invalid' && p.code !== 'key_unknown') ?? problems[0];
      checks.push({
        id: 'signature',
        label,
        ok: false,
        code: first?.code ?? 'key_unknown',
        detail: s.keyid ? (first?.message ?? `key ${s.keyid} is not in the key ring`) : 'the signature verifies with no key of the key ring',
      });
    }
  }
  result.signerKeyIds = [...signers].sort();
  // As the service counts them: once a trusted key signed, another signature that fails is shown but not held against the envelope.
  if (signers.size > 0) {
    for (const c of checks) if (c.id === 'signature' && c.ok === false) Object.assign(c, { ok: undefined, detail: `not counted (another trusted key signed): ${c.detail}` });
  }
  checks.push(
    result.signerKeyIds.length > 0
      ? { id: 'signers', label: 'Trusted signer', ok: true, detail: `signed by ${result.signerKeyIds.join(', ')}` }
      : { id: 'signers', label: 'Trusted signer', ok: false, code: 'threshold_not_met', detail: 'no key of the key ring signed this envelope' },
  );

  if (!options.artifact) {
    checks.push({ id: 'artifact', label: 'Artifact', ok: undefined, detail: 'no artifact file given' });
  } else {
    const digest = await sha256Hex(subtle, options.artifact.bytes);
    const name = options.artifact.name;
    if (result.statement) {
      const subject = result.statement.subject.find((s) => String(s.digest['sha256'] ?? '').toLowerCase() === digest);
      if (subject) {
        result.matched = subject.name;
        checks.push({ id: 'artifact', label: 'Artifact', ok: true, detail: `${name} (sha256 ${digest}) is subject "${subject.name}"` });
      } else checks.push({ id: 'artifact', label: 'Artifact', ok: false, code: 'subject_mismatch', detail: `${name} (sha256 ${digest}) matches no subject of the statement` });
    } else if (result.manifest) {
      const file = result.manifest.files.find((f) => typeof f.sha256 === 'string' && SHA256_HEX.test(f.sha256) && f.sha256 === digest);
      if (file) {
        result.matched = file.path;
        checks.push({ id: 'artifact', label: 'Artifact', ok: true, detail: `${name} (sha256 ${digest}) is the bundle's file ${file.path}` });
      } else checks.push({ id: 'artifact', label: 'Artifact', ok: false, code: 'digest_mismatch', detail: `${name} (sha256 ${digest}) is no file of the manifest` });
    } else {
      checks.push({ id: 'artifact', label: 'Artifact', ok: false, code: 'subject_mismatch', detail: `the payload names no subjects to match ${name} against` });
    }
  }
  return done();
}
