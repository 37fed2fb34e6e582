import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
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
 * and a rebuilt bundle is byte-identical (SPEC FOR-2). Verifiers need not care: any valid
 * ECDSA signature verifies.
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
    // prehash: SHA-256 of the message, as ecdsa-with-SHA256 (what openssl dgst -sha256 checks).
    sign: async (data) => p256.sign(data, d, { prehash: true, format: 'der' }),
  };
}

/** Verifies a raw signature (DER for ECDSA). Never throws for a malformed signature. */
export function verifySignature(key: VerificationKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return key.algorithm === 'ed25519'
      ? verify(null, data, key.key, signature)
      : verify('sha256', data, { key: key.key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
