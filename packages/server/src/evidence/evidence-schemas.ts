/** TypeBox schemas of the evidence routes: validation, TypeScript types and OpenAPI in one place. */
import { Type } from 'typebox';
import { BoundedInteger, SafeId, SafeString } from '../http/safe-schema.js';
import { ARTIFACT_ROLES } from './snapshot-service.js';

const ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const Kind = Type.Union([Type.Literal('evaluation'), Type.Literal('job-capsule'), Type.Literal('export')], {
  description: 'snapshot type (EVI-2): evaluation bundle, job capsule or export manifest',
});
export const CaseId = Type.String({ pattern: ID, description: 'case the bundle is filed under (legal holds apply per case)' });
export const ResourceType = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' });
export const ResourceId = SafeId({ minLength: 1, maxLength: 512 });
export const Labels = Type.Record(Type.String(), SafeString({ maxLength: 256 }), {
  maxProperties: 32,
  propertyNames: SafeId({ minLength: 1, maxLength: 64 }),
});

export const SnapshotBody = Type.Object(
  {
    kind: Kind,
    resource_id: ResourceId,
    case_id: CaseId,
    resource_type: Type.Optional(ResourceType),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);

export const ArtifactBody = Type.Object(
  {
    resource_type: ResourceType,
    resource_id: ResourceId,
    role: Type.Union(Object.keys(ARTIFACT_ROLES).map((r) => Type.Literal(r)) as never, { description: `one of ${Object.keys(ARTIFACT_ROLES).join(', ')}` }),
    name: SafeId({ minLength: 1, maxLength: 200, description: 'file name inside the role folder of a bundle (may contain "/")' }),
    media_type: Type.Optional(SafeId({ maxLength: 128 })),
    content_base64: Type.String({ pattern: '^[A-Za-z0-9+/_-]*={0,2}$', description: 'the bytes, base64 (or base64url)' }),
    digest: Type.Optional(Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'checked against the bytes when given' })),
  },
  { additionalProperties: false },
);

export const Artifact = Type.Object({
  id: Type.String(),
  resource_type: Type.String(),
  resource_id: Type.String(),
  role: Type.String(),
  name: Type.String(),
  media_type: Type.String(),
  digest: Type.String(),
  size: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  created: Type.Boolean({ description: 'false when the same bytes were already attached under this name' }),
});

export const Bundle = Type.Object({
  bundle_id: Type.String(),
  case_id: Type.String(),
  kind: Type.String(),
  resource_type: Nullable(Type.String()),
  resource_id: Nullable(Type.String()),
  root_hash: Type.String(),
  manifest_digest: Nullable(Type.String()),
  signer_key_id: Nullable(Type.String()),
  path: Type.String({ description: 'object-store prefix tenants/<tenant>/evidence/<case>/<bundle>/' }),
  created_at: Type.String({ format: 'date-time' }),
  retain_until: Nullable(Type.String({ format: 'date-time' })),
  file_count: Type.Union([Type.Integer(), Type.Null()]),
  content_bytes: Type.Union([Type.Integer(), Type.Null()]),
  timestamped: Type.Boolean(),
  labels: Type.Record(Type.String(), Type.Unknown()),
  links: Type.Object({ self: Type.String(), archive: Type.String() }),
});

export const Failure = Type.Object({
  code: Type.String(),
  message: Type.String(),
  path: Type.Optional(Type.String()),
  keyId: Type.Optional(Type.String()),
});

export const Verification = Type.Object({
  ok: Type.Boolean(),
  failures: Type.Array(Failure),
  root: Type.Optional(Type.String()),
  manifest_digest: Type.Optional(Type.String()),
  signer: Type.Optional(Type.Object({ keyId: Type.String(), algorithm: Type.String() })),
  created_at: Type.Optional(Type.String()),
  file_count: Type.Integer(),
  content_bytes: Type.Integer(),
  timestamp: Type.Optional(
    Type.Object({
      genTime: Type.String(),
      trusted: Type.Boolean(),
      covers: Type.Optional(Type.String({ description: 'signature (v2: bounds the signing time) or root (v1: the files existed then)' })),
      tsa: Type.Optional(Type.String()),
      serialNumber: Type.Optional(Type.String()),
      policy: Type.Optional(Type.String()),
    }),
  ),
  format: Type.Optional(Type.String()),
  signing_time: Type.Optional(
    Type.Object(
      {
        source: Type.Union([Type.Literal('asserted'), Type.Literal('tsa')]),
        time: Type.String(),
        asserted: Type.String(),
        tsa: Type.Optional(Type.String()),
      },
      { description: "asserted: the signer's own createdAt, not proven; tsa: an RFC 3161 timestamp from a trusted TSA covers the signature" },
    ),
  ),
  notes: Type.Optional(Type.Array(Type.String())),
});

export const Hold = Type.Object({ case_id: Type.String(), reason: Type.String(), placed_by: Nullable(Type.String()), placed_at: Type.String() });

export const BundleDetail = Type.Object({
  bundle: Bundle,
  manifest: Type.Record(Type.String(), Type.Unknown(), { description: 'manifest.json: files with sha256 and size, Merkle root, signer' }),
  signature: Type.String({ description: 'manifest.sig (base64 signature over manifest.json)' }),
  verification: Verification,
  hold: Type.Union([Hold, Type.Null()]),
});

export const BundleParams = Type.Object({ bundle_id: Type.String({ pattern: ID }) }, { additionalProperties: false });
/** A bundle and, after `/files/`, one file's path as its manifest lists it (relative to files/, at most 249 bytes there). */
export const BundleFileParams = Type.Object(
  { bundle_id: Type.String({ pattern: ID }), '*': SafeId({ minLength: 1, maxLength: 249, description: "the file's path as the bundle's manifest lists it, e.g. sbom/sbom.cdx.json" }) },
  { additionalProperties: false },
);
export const CaseParams = Type.Object({ case_id: CaseId }, { additionalProperties: false });

export const ListQuery = Type.Object(
  {
    case_id: Type.Optional(CaseId),
    resource_type: Type.Optional(ResourceType),
    resource_id: Type.Optional(ResourceId),
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1000, description: 'default 100' })),
  },
  { additionalProperties: false },
);
export const BundleList = Type.Object({ bundles: Type.Array(Bundle) });

export const VerifyBody = Type.Object({ bundle_id: Type.String({ pattern: ID }) }, { additionalProperties: false });
export const VerifyResult = Type.Object({ bundle_id: Nullable(Type.String()), source: Type.Union([Type.Literal('stored'), Type.Literal('upload')]), verification: Verification });

export const HoldBody = Type.Object(
  {
    action: Type.Union([Type.Literal('place'), Type.Literal('release')]),
    reason: SafeString({ minLength: 1, maxLength: 1000, description: 'why (kept in the audit event)' }),
  },
  { additionalProperties: false },
);
export const HoldResult = Type.Object({
  case_id: Type.String(),
  held: Type.Boolean(),
  reason: Type.String(),
  bundles: Type.Integer({ description: 'bundles of the case whose object lock changed' }),
  audit_event_id: Type.String(),
});

export const Retention = Type.Object({
  tenant_id: Type.String(),
  retention_days: Type.Integer(),
  extended_until: Nullable(Type.String({ format: 'date-time' })),
  source: Type.Union([Type.Literal('tenant'), Type.Literal('default')]),
  allowed: Type.Object({ min_days: Type.Integer(), max_days: Type.Integer() }, { description: 'what a tenant may set (floor and ceiling of the retention policy)' }),
});
export const RetentionUpdate = Type.Object(
  {
    // Wider than the policy: the handler refuses a value outside its floor and ceiling with 400 retention.out_of_bounds naming the bound.
    retention_days: Type.Optional(BoundedInteger({ minimum: 0, maximum: 36500 })),
    extended_until: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'incident mode: nothing expires before this' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DeleteResult = Type.Object({ bundle_id: Type.String(), deleted: Type.Literal(true) });

export const KeyInfo = Type.Object({
  key_id: Type.String(),
  algorithm: Type.String(),
  not_before: Type.String(),
  not_after: Nullable(Type.String()),
  revoked_at: Nullable(Type.String()),
  public_key_pem: Type.String(),
});
export const KeyringResponse = Type.Object({
  version: Type.Literal(1),
  log: Type.Array(Type.Unknown(), { description: 'the signed rotation log (DSSE envelopes); `{version, log}` is the key ring file verifiers load' }),
  scope: Type.Union([Type.Literal('platform'), Type.Literal('tenant')]),
  tenant_id: Type.String(),
  current_key_id: Nullable(Type.String()),
  keys: Type.Array(KeyInfo),
  rotations: Type.Array(Type.Object({ seq: Type.Integer(), op: Type.String(), at: Type.String(), key_id: Type.String() })),
});
export const RotateBody = Type.Object(
  { scope: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('tenant')], { description: "default: the key that signs this tenant's evidence" })) },
  { additionalProperties: false },
);
export const RotateResult = Type.Object({
  scope: Type.Union([Type.Literal('platform'), Type.Literal('tenant')]),
  previous_key_id: Type.String(),
  key_id: Type.String(),
  at: Type.String(),
  audit_event_id: Type.String(),
});
