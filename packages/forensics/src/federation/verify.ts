/**
 * Verification of federation envelopes (FED-3). A consent: its envelope, payload type, a
 * signature by a trusted key, its payload (canonical, every member by its rules) and, when asked,
 * that it is in force at a time. A bundle, with the consent it was shared under: the bundle's
 * envelope, payload type and signature; its payload (canonical JSON, bucket order, bundleId
 * derived from the payload); the consent as above; the consent-digest link (the bundle's
 * consentDigest is the digest of the consent envelope given); and that the consent was in force
 * at the bundle's createdAt. The first failure ends verification with its stable code.
 *
 * Both envelopes' digests (`sha256:` over their canonical JSON) are reported, so a receiver can
 * compare them with what the sender announced; `expectedDigest` makes that check part of the
 * verification.
 */
import { FederationError, type FederationErrorCode } from './errors.js';
import {
  FEDERATION_BUNDLE_PAYLOAD_TYPE,
  FEDERATION_CONSENT_PAYLOAD_TYPE,
  federationEnvelopeDigest,
  parseFederationEnvelope,
  verifyFederationSignature,
  type FederationSignature,
  type FederationTrustOptions,
} from './envelope.js';
import { assertConsentInForce, canonicalPayloadOf, validateBundlePayload, validateConsent, type FederationBundlePayload, type FederationConsent } from './payloads.js';

export interface FederationConsentVerifyOptions extends FederationTrustOptions {
  /** Also require the consent to be in force at this time. */
  readonly at?: string | Date;
  /** The digest the consent envelope must have (`sha256:<hex>`). */
  readonly expectedDigest?: string;
}

export interface FederationBundleVerifyOptions extends FederationTrustOptions {
  /** The digest the bundle envelope must have (`sha256:<hex>`). */
  readonly expectedDigest?: string;
}

export type FederationFailure = { readonly ok: false; readonly code: FederationErrorCode; readonly message: string };

export type FederationConsentVerification =
  | { readonly ok: true; readonly consent: FederationConsent; readonly digest: string; readonly signer: FederationSignature }
  | (FederationFailure & { readonly digest: string | null });

export type FederationBundleVerification =
  | {
      readonly ok: true;
      readonly bundle: FederationBundlePayload;
      readonly consent: FederationConsent;
      readonly digest: string;
      readonly consentDigest: string;
      readonly signer: FederationSignature;
      readonly consentSigner: FederationSignature;
    }
  | (FederationFailure & { readonly digest: string | null; readonly consentDigest: string | null });

function failed(error: unknown): FederationFailure {
  if (error instanceof FederationError) return { ok: false, code: error.code, message: error.message };
  throw error;
}

function checkConsent(input: unknown, options: FederationConsentVerifyOptions, digestOut: { digest: string | null }): { consent: FederationConsent; signer: FederationSignature; digest: string } {
  const envelope = parseFederationEnvelope(input);
  const digest = federationEnvelopeDigest(envelope);
  digestOut.digest = digest;
  if (options.expectedDigest !== undefined && options.expectedDigest !== digest) {
    throw new FederationError('federation.consent.digest_mismatch', `the consent envelope's digest is ${digest}, expected ${options.expectedDigest}`);
  }
  const signer = verifyFederationSignature(envelope, FEDERATION_CONSENT_PAYLOAD_TYPE, options);
  const consent = validateConsent(canonicalPayloadOf(envelope));
  if (options.at !== undefined) assertConsentInForce(consent, new Date(options.at).toISOString());
  return { consent, signer, digest };
}

/** Verifies a consent envelope (text, bytes or a parsed value). */
export function verifyFederationConsent(input: unknown, options: FederationConsentVerifyOptions = {}): FederationConsentVerification {
  const seen = { digest: null as string | null };
  try {
    return { ok: true, ...checkConsent(input, options, seen) };
  } catch (error) {
    return { ...failed(error), digest: seen.digest };
  }
}

/** Verifies a bundle envelope with the consent envelope it was shared under. */
export function verifyFederationBundle(bundleInput: unknown, consentInput: unknown, options: FederationBundleVerifyOptions = {}): FederationBundleVerification {
  let digest: string | null = null;
  const consentSeen = { digest: null as string | null };
  try {
    const envelope = parseFederationEnvelope(bundleInput);
    digest = federationEnvelopeDigest(envelope);
    if (options.expectedDigest !== undefined && options.expectedDigest !== digest) {
      throw new FederationError('federation.payload.invalid', `the bundle envelope's digest is ${digest}, expected ${options.expectedDigest}`);
    }
    const signer = verifyFederationSignature(envelope, FEDERATION_BUNDLE_PAYLOAD_TYPE, options);
    const bundle = validateBundlePayload(canonicalPayloadOf(envelope));
    const { consent, signer: consentSigner, digest: consentDigest } = checkConsent(consentInput, { keys: options.keys, allowUnsigned: options.allowUnsigned }, consentSeen);
    if (bundle.consentDigest !== consentDigest) {
      throw new FederationError('federation.consent.digest_mismatch', `the bundle names consent ${bundle.consentDigest}, but the consent given has digest ${consentDigest}`);
    }
    assertConsentInForce(consent, bundle.createdAt);
    return { ok: true, bundle, consent, digest, consentDigest, signer, consentSigner };
  } catch (error) {
    return { ...failed(error), digest, consentDigest: consentSeen.digest };
  }
}
