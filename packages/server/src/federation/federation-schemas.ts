/** TypeBox schemas of the federation routes (`/federation/*`). */
import { Type } from 'typebox';
import { BoundedInteger, SafeId, SafeJsonObject, SafeString } from '../http/safe-schema.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const Time = (description: string) => Type.String({ format: 'date-time', description });

export const Envelope = Type.Object(
  {
    payloadType: Type.String(),
    payload: Type.String({ description: 'base64 of the canonical JSON payload' }),
    signatures: Type.Array(Type.Object({ keyid: Type.String(), sig: Type.String() }), { description: 'HMAC-SHA256 over the DSSE PAE; an unsigned envelope has one, keyid "offline-unsigned-fallback", sig ""' }),
  },
  { description: 'a DSSE envelope' },
);

export const ConsentBody = Type.Object(
  {
    consent_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$', description: 'default: derived from the other fields' })),
    granted_by: SafeId({ minLength: 1, maxLength: 256, description: 'who granted the consent (a person or role)' }),
    purpose: SafeString({ minLength: 1, maxLength: 1000, description: 'what the aggregates may be used for' }),
    granted_at: Type.Optional(Time('when it was granted; default now')),
    expires_at: Time('when it ends; bundles cannot be created under it from then on'),
  },
  { additionalProperties: false },
);

export const Consent = Type.Object({
  consent_id: Type.String(),
  tenant_id: Type.String(),
  granted_by: Type.String(),
  granted_at: Type.String(),
  expires_at: Type.String(),
  purpose: Type.String(),
  digest: Type.String({ description: "sha256 of the envelope's canonical JSON: what bundles name as consentDigest" }),
  signer_key_id: NullableString,
  unsigned: Type.Boolean({ description: 'true for an envelope tagged offline-unsigned-fallback' }),
  envelope: Envelope,
  created_at: Type.String(),
});

export const ConsentResult = Type.Object({ created: Type.Boolean(), consent: Consent });

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1000, description: 'newest first; default 100' })),
    consent_id: Type.Optional(SafeId({ maxLength: 128, description: 'bundles under this consent only' })),
  },
  { additionalProperties: false },
);

export const BundleBody = Type.Object(
  {
    consent_id: SafeId({ minLength: 1, maxLength: 128, description: 'the consent the bundle is shared under' }),
    from: Time('window start (inclusive): findings attached from then'),
    to: Time('window end (exclusive)'),
    created_at: Type.Optional(Time('the fixed clock input of the bundle id; default `to`')),
  },
  { additionalProperties: false },
);

const BundleSummary = Type.Object({
  bundle_id: Type.String(),
  consent_id: Type.String(),
  consent_digest: Type.String(),
  created_at: Type.String(),
  window_from: Type.String(),
  window_to: Type.String(),
  min_artifacts: Type.Integer({ description: 'k: buckets seen in fewer artifacts were left out' }),
  buckets: Type.Integer(),
  suppressed: Type.Integer({ description: 'buckets left out by k' }),
  digest: Type.String(),
  signer_key_id: NullableString,
  unsigned: Type.Boolean(),
  recorded_at: Type.String(),
});

const Bucket = Type.Object({ cveId: Type.String(), noisyCount: Type.Integer(), artifactCount: Type.Integer(), observationCount: Type.Integer() });

export const BuildResult = Type.Object({
  created: Type.Boolean({ description: 'false when the same bundle (same id) was exported before' }),
  bundle: BundleSummary,
  envelope: Envelope,
  bucket_list: Type.Array(Bucket),
  findings_documents: Type.Integer({ description: 'findings.json documents read' }),
  observations: Type.Integer(),
  skipped: Type.Integer({ description: 'documents or items that are not findings' }),
});

export const BundleList = Type.Object({ bundles: Type.Array(BundleSummary) });
export const ConsentList = Type.Object({ consents: Type.Array(Consent) });

export const BundleParams = Type.Object({ bundle_id: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }) }, { additionalProperties: false });

export const BundleDetail = Type.Object({ bundle: BundleSummary, envelope: Envelope, consent_envelope: Type.Union([Envelope, Type.Null()]) });

export const VerifyBody = Type.Object(
  {
    bundle: SafeJsonObject({ description: 'the bundle envelope' }),
    consent: SafeJsonObject({ description: 'the consent envelope it was shared under' }),
    allow_unsigned: Type.Optional(Type.Boolean({ description: 'accept envelopes tagged offline-unsigned-fallback; default false' })),
  },
  { additionalProperties: false },
);

export const VerifyResult = Type.Object({
  valid: Type.Literal(true),
  bundle_id: Type.String(),
  consent_id: Type.String(),
  tenant_id: Type.String(),
  created_at: Type.String(),
  expires_at: Type.String(),
  buckets: Type.Array(Bucket),
  digest: Type.String(),
  consent_digest: Type.String(),
  signer_key_id: NullableString,
  consent_signer_key_id: NullableString,
  fallback: NullableString,
});
