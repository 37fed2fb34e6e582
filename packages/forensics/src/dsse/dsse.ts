import { decodeBase64, encodeBase64 } from '../encoding/base64.js';
import { ForensicsError } from '../errors.js';
import { checkSignature, normalizeSignature, type Signer, type VerificationKey } from '../keys/signer.js';
import { failure, type VerificationFailure } from '../verification-failure.js';

/** DSSE envelope (https://github.com/secure-systems-lab/dsse, envelope.md). */
export interface DsseEnvelope {
  /** base64 of the serialized body. */
  readonly payload: string;
  readonly payloadType: string;
  readonly signatures: readonly DsseSignature[];
}

export interface DsseSignature {
  /** Our key id (hex SHA-256 of the SPKI); producers such as cosign may leave it empty. */
  readonly keyid: string;
  /** base64 of the raw signature over PAE (DER for ECDSA). */
  readonly sig: string;
}

/**
 * Pre-Authentication Encoding, DSSE v1 protocol.md:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII decimal byte counts.
 */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

/** Signs `payload` with every signer (t-of-n envelopes carry one signature per key). */
export async function signDsse(
  payload: Uint8Array | string,
  payloadType: string,
  signers: Signer | readonly Signer[],
): Promise<DsseEnvelope> {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const list = Array.isArray(signers) ? signers : [signers as Signer];
  if (list.length === 0) throw new ForensicsError('invalid_argument', 'signDsse needs at least one signer');
  const message = pae(payloadType, body);
  const signatures: DsseSignature[] = [];
  // Low-S whatever the signer (a KMS may not normalise): one encoding per signature.
  for (const signer of list) signatures.push({ keyid: signer.keyId, sig: encodeBase64(normalizeSignature(signer.algorithm, await signer.sign(message))) });
  return { payload: encodeBase64(body), payloadType, signatures };
}

/** Validates the envelope's shape (from a JSON string or an already-parsed value). */
export function parseDsseEnvelope(input: string | Uint8Array | unknown): DsseEnvelope {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (cause) {
      throw new ForensicsError('invalid_envelope', 'DSSE envelope is not valid JSON', { cause });
    }
  }
  const env = value as Partial<Record<keyof DsseEnvelope, unknown>> | null;
  if (!env || typeof env !== 'object') throw new ForensicsError('invalid_envelope', 'DSSE envelope must be a JSON object');
  if (typeof env.payload !== 'string') throw new ForensicsError('invalid_envelope', 'DSSE envelope lacks a string "payload"');
  if (typeof env.payloadType !== 'string' || env.payloadType === '') {
    throw new ForensicsError('invalid_envelope', 'DSSE envelope lacks a "payloadType"');
  }
  if (!Array.isArray(env.signatures)) throw new ForensicsError('invalid_envelope', 'DSSE envelope lacks a "signatures" array');
  const signatures = env.signatures.map((s: unknown, i: number) => {
    const sig = s as { keyid?: unknown; sig?: unknown } | null;
    if (!sig || typeof sig.sig !== 'string') throw new ForensicsError('invalid_envelope', `signature ${i} lacks a string "sig"`);
    if (sig.keyid !== undefined && typeof sig.keyid !== 'string') {
      throw new ForensicsError('invalid_envelope', `signature ${i} has a non-string "keyid"`);
    }
    return { keyid: (sig.keyid as string | undefined) ?? '', sig: sig.sig };
  });
  decodeBase64(env.payload, 'DSSE payload');
  return { payload: env.payload, payloadType: env.payloadType, signatures };
}

/**
 * What verification asks of a key ring: its key ids, and whether a key was valid at a time.
 * `Keyring` (keys/keyring.ts) is one; the ring's own rotation log is signed with DSSE, so this
 * module names only the shape, never the class.
 */
export interface TrustedKeys {
  keys(): readonly { readonly keyId: string }[];
  checkKey(keyId: string, at: Date): { readonly ok: true; readonly key: VerificationKey } | { readonly ok: false; readonly code: 'key_unknown' | 'key_outside_validity' | 'key_revoked'; readonly message: string };
}

export interface DsseVerifyOptions {
  /** Trusted public keys. Either this or `keyring` is required. */
  readonly keys?: readonly VerificationKey[];
  /** Trusted key ring: keys are also checked against their validity windows and revocation at `signedAt`. */
  readonly keyring?: TrustedKeys;
  /** When the signatures were made (a manifest's createdAt); required with a keyring. */
  readonly signedAt?: Date;
  /** Distinct trusted keys that must have signed. Default 1. */
  readonly threshold?: number;
  /** Reject envelopes of any other payload type. Default: accept any. */
  readonly payloadType?: string;
}

export interface DsseVerification {
  readonly ok: boolean;
  readonly payloadType: string;
  readonly payload: Buffer;
  /** Distinct key ids whose signatures verified and whose keys were acceptable. */
  readonly verifiedKeyIds: readonly string[];
  readonly failures: readonly VerificationFailure[];
}

/** Candidate keys for one signature: by key id, or all of them when the producer left keyid empty. */
function candidates(keyid: string, options: DsseVerifyOptions): { key?: VerificationKey; problem?: VerificationFailure }[] {
  if (options.keyring) {
    const ids = keyid ? [keyid] : options.keyring.keys().map((k) => k.keyId);
    return ids.map((id) => {
      const check = options.keyring!.checkKey(id, options.signedAt!);
      return check.ok ? { key: check.key } : { problem: failure(check.code, check.message, { keyId: id }) };
    });
  }
  const keys = options.keys ?? [];
  const matching = keyid ? keys.filter((k) => k.keyId === keyid) : keys;
  if (matching.length === 0) {
    return [{ problem: failure('key_unknown', `signature by key ${keyid} does not match any trusted key`, { keyId: keyid }) }];
  }
  return matching.map((key) => ({ key }));
}

/**
 * Verifies an envelope: every signature is checked over PAE(payloadType, payload) against the
 * trusted keys; the envelope passes when at least `threshold` distinct keys verified.
 */
export function verifyDsse(envelope: DsseEnvelope | string | Uint8Array, options: DsseVerifyOptions): DsseVerification {
  if (!options.keys && !options.keyring) throw new ForensicsError('invalid_argument', 'verifyDsse needs keys or a keyring');
  if (options.keyring && !options.signedAt) throw new ForensicsError('invalid_argument', 'verifyDsse with a keyring needs signedAt');
  const threshold = options.threshold ?? 1;
  if (!Number.isInteger(threshold) || threshold < 1) throw new ForensicsError('invalid_argument', 'threshold must be a positive integer');
  let env: DsseEnvelope;
  try {
    env = typeof envelope === 'string' || envelope instanceof Uint8Array ? parseDsseEnvelope(envelope) : parseDsseEnvelope(envelope as unknown);
  } catch (err) {
    return { ok: false, payloadType: '', payload: Buffer.alloc(0), verifiedKeyIds: [], failures: [failure('envelope_invalid', (err as Error).message)] };
  }
  const payload = decodeBase64(env.payload, 'DSSE payload');
  const failures: VerificationFailure[] = [];
  if (options.payloadType !== undefined && env.payloadType !== options.payloadType) {
    failures.push(failure('payload_type_mismatch', `payload type is "${env.payloadType}", expected "${options.payloadType}"`));
  }
  const message = pae(env.payloadType, payload);
  const verified = new Set<string>();
  for (const [i, s] of env.signatures.entries()) {
    let sig: Buffer;
    try {
      sig = decodeBase64(s.sig, `signature ${i}`);
    } catch (err) {
      failures.push(failure('signature_invalid', (err as Error).message, { keyId: s.keyid }));
      continue;
    }
    const problems: VerificationFailure[] = [];
    let good: VerificationKey | undefined;
    let cryptoFailed = false;
    let encodingProblem: VerificationFailure | undefined;
    for (const c of candidates(s.keyid, options)) {
      if (c.problem) {
        problems.push(c.problem);
        continue;
      }
      const check = c.key ? checkSignature(c.key, message, sig) : undefined;
      if (check?.ok) {
        good = c.key;
        break;
      }
      cryptoFailed = true;
      if (check && check.code !== 'signature_invalid') {
        encodingProblem ??= failure(check.code, `signature ${i}${s.keyid ? ` by key ${s.keyid}` : ''}: ${check.message}`, { keyId: s.keyid });
      }
    }
    if (good) {
      verified.add(good.keyId);
    } else if (s.keyid && problems.length > 0) {
      failures.push(...problems);
    } else if (encodingProblem) {
      failures.push(encodingProblem);
    } else if (cryptoFailed || problems.length === 0) {
      failures.push(failure('signature_invalid', `signature ${i}${s.keyid ? ` by key ${s.keyid}` : ''} does not verify over the payload`, { keyId: s.keyid }));
    } else {
      failures.push(failure('key_unknown', `signature ${i} does not verify with any acceptable key`, { keyId: s.keyid }));
    }
  }
  if (env.signatures.length === 0) failures.push(failure('signature_missing', 'the envelope carries no signatures'));
  if (verified.size < threshold) {
    failures.push(failure('threshold_not_met', `${verified.size} of the required ${threshold} trusted keys signed`));
  }
  const typeOk = !failures.some((f) => f.code === 'payload_type_mismatch');
  return {
    ok: typeOk && verified.size >= threshold,
    payloadType: env.payloadType,
    payload,
    verifiedKeyIds: [...verified].sort(),
    failures: verified.size >= threshold && typeOk ? [] : failures,
  };
}
