import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { DerError, integerContent, parseDer, children, readUnsignedInteger, tlv } from '../encoding/der.js';
import { ForensicsError } from '../errors.js';

/**
 * Signature algorithms. ECDSA P-256 with SHA-256 and DER signatures is the default because it is
 * what `cosign sign-blob` produces and what `openssl dgst -sha256 -verify` checks; Ed25519 is the
 * compact alternative (verify by hand with `openssl pkeyutl -verify -rawin`).
 */
export type SignatureAlgorithm = 'ecdsa-p256-sha256' | 'ed25519';

/**
 * Anything that can sign: a local key file today, a KMS or HSM key tomorrow (EVI-7). Only the
 * public half and the key id are exposed; `sign` is async so a remote call fits behind it.
 */
export interface Signer {
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  /** SPKI PEM of the public key. */
  readonly publicKeyPem: string;
  /** Signs `data` (the whole message; hashing is part of the algorithm). ECDSA returns DER. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A public key ready to verify with, and what it is known as. */
export interface VerificationKey {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKeyPem: string;
  readonly key: KeyObject;
}

export interface GeneratedKeyPair {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
}

function algorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256-sha256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new ForensicsError(
    'unsupported_algorithm',
    `unsupported key type ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}; use ECDSA P-256 or Ed25519`,
  );
}

/** Key id: lowercase hex SHA-256 of the DER-encoded SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

function parsePublicKey(pem: string): KeyObject {
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new ForensicsError('invalid_key', 'not a PEM public key (expected SPKI "BEGIN PUBLIC KEY")', { cause });
  }
}

/** Parses an SPKI PEM public key (a PEM private key also works: its public half is used). */
export function loadPublicKey(publicKey: string | KeyObject): VerificationKey {
  let key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  if (key.type === 'private') key = createPublicKey(key);
  if (key.type !== 'public') throw new ForensicsError('invalid_key', 'expected an asymmetric public key');
  const algorithm = algorithmOf(key);
  const publicKeyPem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(key), algorithm, publicKeyPem, key };
}

/** Generates a key pair for signing evidence: PKCS#8 PEM private, SPKI PEM public. */
export function generateSigningKeyPair(algorithm: SignatureAlgorithm = 'ecdsa-p256-sha256'): GeneratedKeyPair {
  const { privateKey, publicKey } =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    keyId: keyIdOf(publicKey),
    algorithm,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A Signer over a private key held in this process (PKCS#8 or SEC1 PEM, or a KeyObject).
 * Both algorithms sign deterministically — Ed25519 by construction, ECDSA with RFC 6979 nonces
 * (node:crypto only offers random ones) — so the same manifest always gets the same signature
 * and a rebuilt bundle is byte-identical (SPEC FOR-2). ECDSA signatures are low-S (s ≤ n/2):
 * (r, s) and (r, n−s) both satisfy the ECDSA equation, so only one of the two is ever written
 * and the verifier refuses the other (`signature_high_s`).
 */
export function createKeySigner(privateKey: string | KeyObject): Signer {
  let key: KeyObject;
  try {
    key = typeof privateKey === 'string' ? createPrivateKey({ key: privateKey, format: 'pem' }) : privateKey;
  } catch (cause) {
    throw new ForensicsError('invalid_key', 'not a PEM private key (expected PKCS#8 "BEGIN PRIVATE KEY")', { cause });
  }
  if (key.type !== 'private') throw new ForensicsError('invalid_key', 'a signer needs a private key');
  const algorithm = algorithmOf(key);
  const pub = createPublicKey(key);
  const keyId = keyIdOf(pub);
  const publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
  if (algorithm === 'ed25519') return { keyId, algorithm, publicKeyPem, sign: async (data) => sign(null, data, key) };
  const d = Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url');
  return {
    keyId,
    algorithm,
    publicKeyPem,
    // ecdsa-with-SHA256 (what openssl dgst -sha256 checks): the message is hashed here with
    // node:crypto (native, so a large manifest costs nothing noticeable) and noble signs the
    // digest — the same RFC 6979 signature as letting it hash the message itself.
    sign: async (data) => p256.sign(createHash('sha256').update(data).digest(), d, { prehash: false, format: 'der', lowS: true }),
  };
}

/** Order n of the P-256 group. */
export const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** (r, s) of a DER ECDSA signature, read strictly: a SEQUENCE of two minimal INTEGERs in [1, n-1]. */
export function parseEcdsaSignature(signature: Uint8Array, order: bigint = P256_ORDER): { r: bigint; s: bigint } {
  const seq = parseDer(Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
  if (seq.tag !== 0x30) throw new DerError('not a SEQUENCE');
  const parts = children(seq);
  if (parts.length !== 2) throw new DerError('expected exactly r and s');
  const r = readUnsignedInteger(parts[0]!);
  const s = readUnsignedInteger(parts[1]!);
  if (r <= 0n || r >= order || s <= 0n || s >= order) throw new DerError('r or s out of range');
  return { r, s };
}

/** DER of (r, s). */
export function encodeEcdsaSignature(r: bigint, s: bigint): Buffer {
  return tlv(0x30, tlv(0x02, integerContent(r)), tlv(0x02, integerContent(s)));
}

/**
 * The low-S form of a signature (ECDSA: s → n−s when s > n/2, re-encoded in DER; Ed25519 as
 * is). Applied to whatever a Signer returns, so a KMS that does not normalise still produces the
 * one accepted encoding. Throws `invalid_argument` for a signature that is not strict DER.
 */
export function normalizeSignature(algorithm: SignatureAlgorithm, signature: Uint8Array, order: bigint = P256_ORDER): Buffer {
  const bytes = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
  if (algorithm !== 'ecdsa-p256-sha256') return bytes;
  let rs;
  try {
    rs = parseEcdsaSignature(bytes, order);
  } catch (cause) {
    throw new ForensicsError('invalid_argument', `the signer returned a signature that is not strict DER: ${(cause as Error).message}`, { cause });
  }
  return rs.s > order / 2n ? encodeEcdsaSignature(rs.r, order - rs.s) : bytes;
}

/** Why a signature was refused, when it was. */
export type SignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'signature_malformed' | 'signature_high_s' | 'signature_invalid'; readonly message: string };

/**
 * Checks a raw signature (DER for ECDSA) and says why it fails. Only one encoding of a valid
 * signature is accepted: ECDSA must be strict DER (`signature_malformed` otherwise) with
 * s ≤ n/2 (`signature_high_s`: the mirror image (r, n−s) of a valid signature verifies under
 * plain ECDSA, but it is bytes the signer never wrote); Ed25519 must be 64 bytes (node:crypto
 * already refuses a non-canonical S). Never throws.
 */
export function checkSignature(key: VerificationKey, data: Uint8Array, signature: Uint8Array): SignatureCheck {
  try {
    if (key.algorithm === 'ed25519') {
      if (signature.byteLength !== 64) return { ok: false, code: 'signature_malformed', message: `an Ed25519 signature is 64 bytes, not ${signature.byteLength}` };
      return verify(null, data, key.key, signature) ? { ok: true } : { ok: false, code: 'signature_invalid', message: 'the signature does not verify' };
    }
    let rs;
    try {
      rs = parseEcdsaSignature(signature);
    } catch (err) {
      return { ok: false, code: 'signature_malformed', message: `the ECDSA signature is not strict DER: ${(err as Error).message}` };
    }
    if (rs.s > P256_ORDER / 2n) {
      return { ok: false, code: 'signature_high_s', message: 'the ECDSA signature has a high S value (s > n/2); only the low-S form is accepted' };
    }
    return verify('sha256', data, { key: key.key, dsaEncoding: 'der' }, signature)
      ? { ok: true }
      : { ok: false, code: 'signature_invalid', message: 'the signature does not verify' };
  } catch {
    return { ok: false, code: 'signature_invalid', message: 'the signature does not verify' };
  }
}

/** Verifies a raw signature (DER for ECDSA) in its one accepted encoding (see checkSignature). Never throws. */
export function verifySignature(key: VerificationKey, data: Uint8Array, signature: Uint8Array): boolean {
  return checkSignature(key, data, signature).ok;
}
