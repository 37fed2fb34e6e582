/**
 * Federation failures (FED-4) carry stable dotted codes, the same in this library, the service's
 * error catalogue and the `stella` CLI, so an operator on either side of an exchange reads the
 * same code for the same problem.
 */
export const FEDERATION_ERROR_CODES = [
  /** The signer threw or gave something that is not a signature (a KMS failure, an unusable secret). */
  'federation.dsse.sign_failed',
  /** No signer: no key map, no key of the asked id, or no id and not exactly one key; unsigned envelopes not allowed. */
  'federation.dsse.signer_unavailable',
  /** The envelope's payloadType is not the one expected (a bundle where a consent belongs, or another type). */
  'federation.dsse.payload_type_mismatch',
  /** No signature is by a key of the trusted key map. */
  'federation.dsse.untrusted_key',
  /** A trusted key's signature does not verify, the envelope carries none, or it is unsigned and unsigned envelopes are refused. */
  'federation.dsse.signature_invalid',
  /** The consent was not in force when the bundle was created (createdAt at or after expiresAt). */
  'federation.consent.expired',
  /** The bundle's consentDigest is not the digest of the consent envelope given with it. */
  'federation.consent.digest_mismatch',
  /** The envelope or its payload breaks the format: not JSON, not canonical, a field out of rules, buckets out of order, a bundleId not derived from the payload. */
  'federation.payload.invalid',
] as const;

export type FederationErrorCode = (typeof FEDERATION_ERROR_CODES)[number];

export class FederationError extends Error {
  override readonly name = 'FederationError';

  constructor(
    readonly code: FederationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isFederationErrorCode(value: unknown): value is FederationErrorCode {
  return typeof value === 'string' && (FEDERATION_ERROR_CODES as readonly string[]).includes(value);
}
