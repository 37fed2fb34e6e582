/**
 * Federation envelopes (FED-1, FED-4): DSSE JSON `{payloadType, payload, signatures: [{keyid,
 * sig}]}` whose `sig` is the base64 HMAC-SHA256 of the DSSE pre-authentication encoding
 * PAE(payloadType, payload bytes) under the secret the key map holds for `keyid`. HMAC needs no
 * PKI and works offline: installations that federate exchange a key map out of band.
 *
 * The key map file is `{"keys": {"<keyid>": "<base64 secret>"}}`. A secret shorter than 16 bytes
 * is never trusted for verification, and signing with one fails (`federation.dsse.sign_failed`).
 *
 * Unsigned envelopes exist only when the signer asks for them explicitly (`allowUnsigned`) and no
 * signer is available: their one signature is `{keyid: "offline-unsigned-fallback", sig: ""}`,
 * so anyone reading the envelope sees it, and verifiers refuse them unless told otherwise.
 *
 * MACs are compared in constant time (`timingSafeEqual` over equal-length buffers).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { pae } from '../dsse/dsse.js';
import { decodeBase64, encodeBase64 } from '../encoding/base64.js';
import { jcs, jcsBytes } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import { FederationError } from './errors.js';

export const FEDERATION_CONSENT_PAYLOAD_TYPE = 'application/vnd.stellaops.federation.consent+json';
export const FEDERATION_BUNDLE_PAYLOAD_TYPE = 'application/vnd.stellaops.federation.bundle+json';
/** The key id of the one signature an unsigned envelope carries (its `sig` is empty). */
export const OFFLINE_UNSIGNED_FALLBACK = 'offline-unsigned-fallback';
/** Shortest secret used for signing or trusted for verification, in bytes. */
export const MIN_FEDERATION_SECRET_BYTES = 16;

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** A federation envelope: DSSE JSON. */
export interface FederationEnvelope {
  readonly payloadType: string;
  /** base64 of the payload bytes (canonical JSON). */
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/** The trusted key map: key id → secret. */
export interface FederationKeyMap {
  readonly keys: ReadonlyMap<string, Buffer>;
}

/** Signs PAE bytes; the default is HMAC-SHA256 over a key map entry, a KMS can be another. */
export interface FederationSigner {
  readonly keyId: string;
  sign(message: Buffer): Uint8Array | Promise<Uint8Array>;
}

/** How an envelope is signed. */
export interface FederationSignOptions {
  /** A signer of one's own (a KMS); else `keys` and `keyId` make the HMAC signer. */
  readonly signer?: FederationSigner;
  readonly keys?: FederationKeyMap;
  /** The key id to sign with; default the key map's only key. */
  readonly keyId?: string;
  /** With no signer available, write an unsigned envelope tagged `offline-unsigned-fallback` instead of failing. Default false. */
  readonly allowUnsigned?: boolean;
}

/** How an envelope's signature is checked. */
export interface FederationTrustOptions {
  /** The trusted key map; without one, only an allowed unsigned envelope passes. */
  readonly keys?: FederationKeyMap;
  /** Accept envelopes tagged `offline-unsigned-fallback`. Default false. */
  readonly allowUnsigned?: boolean;
}

/** Who signed an envelope, as verification found it. */
export interface FederationSignature {
  /** The trusted key whose MAC verified; null for an accepted unsigned envelope. */
  readonly keyId: string | null;
  /** `offline-unsigned-fallback` for an accepted unsigned envelope; null when signed. */
  readonly fallback: typeof OFFLINE_UNSIGNED_FALLBACK | null;
}

/**
 * Parses a key map (`{"keys": {"<keyid>": "<base64 secret>"}}`, as text, bytes or a parsed
 * value). Throws `ForensicsError('invalid_keyring')` naming what is wrong.
 */
export function parseFederationKeyMap(input: string | Uint8Array | unknown): FederationKeyMap {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (cause) {
      throw new ForensicsError('invalid_keyring', 'the federation key map is not JSON', { cause });
    }
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!value || typeof value !== 'object' || Array.isArray(value) || !keys || typeof keys !== 'object' || Array.isArray(keys)) {
    throw new ForensicsError('invalid_keyring', 'the federation key map must be {"keys": {"<keyid>": "<base64 secret>"}}');
  }
  const out = new Map<string, Buffer>();
  for (const [keyId, secret] of Object.entries(keys as Record<string, unknown>)) {
    if (!KEY_ID.test(keyId) || keyId === OFFLINE_UNSIGNED_FALLBACK) {
      throw new ForensicsError('invalid_keyring', `key id "${keyId.slice(0, 64)}" must be 1-128 letters, digits or "._:@/-", starting with a letter or digit, and not "${OFFLINE_UNSIGNED_FALLBACK}"`);
    }
    if (typeof secret !== 'string') throw new ForensicsError('invalid_keyring', `the secret of key "${keyId}" must be a base64 string`);
    try {
      out.set(keyId, decodeBase64(secret, `the secret of key "${keyId}"`));
    } catch (cause) {
      throw new ForensicsError('invalid_keyring', `the secret of key "${keyId}" is not valid base64`, { cause });
    }
  }
  return { keys: out };
}

/** The HMAC-SHA256 signer for `keyId` (default: the map's only key); throws `federation.dsse.signer_unavailable`. */
export function hmacFederationSigner(keys: FederationKeyMap | undefined, keyId?: string): FederationSigner {
  if (!keys || keys.keys.size === 0) throw new FederationError('federation.dsse.signer_unavailable', 'no federation key map with a key is configured');
  let id = keyId;
  if (id === undefined) {
    if (keys.keys.size !== 1) throw new FederationError('federation.dsse.signer_unavailable', `the key map holds ${keys.keys.size} keys: name the one to sign with`);
    id = [...keys.keys.keys()][0]!;
  }
  const secret = keys.keys.get(id);
  if (!secret) throw new FederationError('federation.dsse.signer_unavailable', `the key map holds no key "${id}"`);
  return {
    keyId: id,
    sign(message) {
      if (secret.length < MIN_FEDERATION_SECRET_BYTES) throw new Error(`the secret of key "${id}" is ${secret.length} bytes; at least ${MIN_FEDERATION_SECRET_BYTES} are needed`);
      return createHmac('sha256', secret).update(message).digest();
    },
  };
}

function resolveSigner(options: FederationSignOptions): FederationSigner | undefined {
  if (options.signer) return options.signer;
  try {
    return hmacFederationSigner(options.keys, options.keyId);
  } catch (error) {
    if (options.allowUnsigned && error instanceof FederationError && error.code === 'federation.dsse.signer_unavailable') return undefined;
    throw error;
  }
}

/**
 * Wraps `payload` (made canonical JSON here) in a signed envelope. Throws
 * `federation.dsse.signer_unavailable` when there is no signer (unless `allowUnsigned`: then the
 * envelope is unsigned and tagged) and `federation.dsse.sign_failed` when the signer fails.
 */
export async function signFederationEnvelope(payloadType: string, payload: unknown, options: FederationSignOptions): Promise<FederationEnvelope> {
  const body = jcsBytes(payload);
  const signer = resolveSigner(options);
  if (!signer) return { payloadType, payload: encodeBase64(body), signatures: [{ keyid: OFFLINE_UNSIGNED_FALLBACK, sig: '' }] };
  let sig: Uint8Array;
  try {
    sig = await signer.sign(pae(payloadType, body));
  } catch (cause) {
    throw new FederationError('federation.dsse.sign_failed', `signing with key "${signer.keyId}" failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
  if (!(sig instanceof Uint8Array) || sig.length === 0) throw new FederationError('federation.dsse.sign_failed', `the signer of key "${signer.keyId}" returned no signature`);
  return { payloadType, payload: encodeBase64(body), signatures: [{ keyid: signer.keyId, sig: encodeBase64(sig) }] };
}

/** Reads an envelope (text, bytes or a parsed value); throws `federation.payload.invalid` naming what is wrong. */
export function parseFederationEnvelope(input: string | Uint8Array | unknown): FederationEnvelope {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (cause) {
      throw new FederationError('federation.payload.invalid', 'the envelope is not JSON', { cause });
    }
  }
  const env = value as Record<string, unknown> | null;
  if (!env || typeof env !== 'object' || Array.isArray(env)) throw new FederationError('federation.payload.invalid', 'the envelope must be a JSON object');
  const extra = Object.keys(env).filter((k) => k !== 'payloadType' && k !== 'payload' && k !== 'signatures');
  if (extra.length > 0) throw new FederationError('federation.payload.invalid', `the envelope has a member "${extra[0]!.slice(0, 64)}" DSSE does not define`);
  if (typeof env['payloadType'] !== 'string' || env['payloadType'] === '') throw new FederationError('federation.payload.invalid', 'the envelope lacks a payloadType');
  if (typeof env['payload'] !== 'string') throw new FederationError('federation.payload.invalid', 'the envelope lacks a string payload');
  try {
    decodeBase64(env['payload'], 'payload');
  } catch (cause) {
    throw new FederationError('federation.payload.invalid', 'the envelope payload is not valid base64', { cause });
  }
  if (!Array.isArray(env['signatures'])) throw new FederationError('federation.payload.invalid', 'the envelope lacks a signatures array');
  const signatures = env['signatures'].map((s: unknown, i: number) => {
    const sig = s as Record<string, unknown> | null;
    if (!sig || typeof sig !== 'object' || typeof sig['keyid'] !== 'string' || typeof sig['sig'] !== 'string') {
      throw new FederationError('federation.payload.invalid', `signature ${i} must be {"keyid": string, "sig": string}`);
    }
    return { keyid: sig['keyid'], sig: sig['sig'] };
  });
  return { payloadType: env['payloadType'], payload: env['payload'], signatures };
}

/** The envelope's canonical JSON (RFC 8785): the bytes its digest is taken over. */
export function canonicalFederationEnvelope(envelope: FederationEnvelope): string {
  return jcs({ payloadType: envelope.payloadType, payload: envelope.payload, signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })) });
}

/** `sha256:<hex>` of the envelope's canonical JSON: a consent's digest, which a bundle's consentDigest names. */
export function federationEnvelopeDigest(envelope: FederationEnvelope): string {
  return `sha256:${createHash('sha256').update(canonicalFederationEnvelope(envelope), 'utf8').digest('hex')}`;
}

/** True when the envelope is the unsigned fallback form. */
export function isUnsignedFallback(envelope: FederationEnvelope): boolean {
  return envelope.signatures.length > 0 && envelope.signatures.every((s) => s.keyid === OFFLINE_UNSIGNED_FALLBACK && s.sig === '');
}

function macMatches(secret: Buffer, message: Buffer, sig: string): boolean {
  let given: Buffer;
  try {
    given = decodeBase64(sig, 'sig');
  } catch {
    return false;
  }
  const expected = createHmac('sha256', secret).update(message).digest();
  // timingSafeEqual needs equal lengths; a MAC of another length is simply wrong.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Checks the payload type and a signature by a trusted key. Throws
 * `federation.dsse.payload_type_mismatch`, `federation.dsse.untrusted_key` or
 * `federation.dsse.signature_invalid`; returns who signed.
 */
export function verifyFederationSignature(envelope: FederationEnvelope, payloadType: string, trust: FederationTrustOptions): FederationSignature {
  if (envelope.payloadType !== payloadType) {
    throw new FederationError('federation.dsse.payload_type_mismatch', `the envelope's payloadType is "${envelope.payloadType.slice(0, 200)}", expected "${payloadType}"`);
  }
  if (envelope.signatures.length === 0) throw new FederationError('federation.dsse.signature_invalid', 'the envelope carries no signature');
  if (isUnsignedFallback(envelope)) {
    if (trust.allowUnsigned) return { keyId: null, fallback: OFFLINE_UNSIGNED_FALLBACK };
    throw new FederationError('federation.dsse.signature_invalid', `the envelope is unsigned (${OFFLINE_UNSIGNED_FALLBACK}); unsigned envelopes are refused unless explicitly allowed`);
  }
  const message = pae(envelope.payloadType, decodeBase64(envelope.payload, 'payload'));
  let trusted = 0;
  for (const s of envelope.signatures) {
    const secret = trust.keys?.keys.get(s.keyid);
    if (!secret || secret.length < MIN_FEDERATION_SECRET_BYTES) continue;
    trusted++;
    if (macMatches(secret, message, s.sig)) return { keyId: s.keyid, fallback: null };
  }
  if (trusted === 0) {
    const ids = envelope.signatures.map((s) => `"${s.keyid.slice(0, 64)}"`).join(', ');
    throw new FederationError('federation.dsse.untrusted_key', `no signature is by a trusted key (signed by ${ids})`);
  }
  throw new FederationError('federation.dsse.signature_invalid', 'the signature of the trusted key does not verify over the payload');
}
