import { decodeBase64, encodeBase64 } from '../encoding/base64.js';
import { jcsBytes } from '../encoding/jcs.js';
import type { DsseEnvelope } from '../dsse/dsse.js';

/** Media type of the Sigstore bundles this library writes (protobuf-specs Bundle v0.3). */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * A Sigstore bundle v0.3 in its JSON form, as far as this library writes one: the DSSE envelope,
 * the signing key named by a hint (our key id; the verifier supplies the public key), no
 * transparency-log entries, and optionally RFC 3161 timestamps over the envelope's signature.
 */
export interface SigstoreBundle {
  readonly mediaType: typeof SIGSTORE_BUNDLE_MEDIA_TYPE;
  readonly verificationMaterial: {
    readonly publicKey: { readonly hint: string };
    readonly tlogEntries: readonly never[];
    readonly timestampVerificationData?: { readonly rfc3161Timestamps: readonly { readonly signedTimestamp: string }[] };
  };
  readonly dsseEnvelope: {
    readonly payload: string;
    readonly payloadType: string;
    readonly signatures: readonly { readonly sig: string; readonly keyid: string }[];
  };
}

/** The envelope with its base64 fields in their one form: standard alphabet, padded. */
export function canonicalEnvelope(envelope: DsseEnvelope): DsseEnvelope {
  return {
    payload: encodeBase64(decodeBase64(envelope.payload, 'DSSE payload')),
    payloadType: envelope.payloadType,
    signatures: envelope.signatures.map((s, i) => ({ keyid: s.keyid, sig: encodeBase64(decodeBase64(s.sig, `signature ${i}`)) })),
  };
}

/**
 * The Sigstore bundle of a DSSE envelope signed by key `keyId`; `timestamps` are DER
 * TimeStampResp over the envelope's (single) signature, as Sigstore verifiers expect.
 */
export function sigstoreBundle(envelope: DsseEnvelope, keyId: string, timestamps: readonly Uint8Array[] = []): SigstoreBundle {
  const env = canonicalEnvelope(envelope);
  return {
    mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: keyId },
      tlogEntries: [],
      ...(timestamps.length > 0 ? { timestampVerificationData: { rfc3161Timestamps: timestamps.map((t) => ({ signedTimestamp: encodeBase64(t) })) } } : {}),
    },
    dsseEnvelope: { payload: env.payload, payloadType: env.payloadType, signatures: env.signatures.map((s) => ({ sig: s.sig, keyid: s.keyid })) },
  };
}

/** The one accepted encoding of a Sigstore bundle file: RFC 8785 JCS bytes. */
export function serializeSigstoreBundle(bundle: SigstoreBundle): Buffer {
  return jcsBytes(bundle);
}
