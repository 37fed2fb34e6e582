/** The answers of the evidence, key ring and attestation APIs the Console reads (schemas in /openapi.json, tags `evidence`, `attestations`). */

/** Snapshot kinds (EVI-2) as `POST /evidence/snapshot` takes them. */
export type EvidenceKind = 'evaluation' | 'job-capsule' | 'export';

export interface KindInfo {
  kind: EvidenceKind;
  label: string;
  /** The resource type the service snapshots for this kind. */
  resourceType: string;
  /** What such a bundle holds, in words. */
  holds: string;
  /** The timeline kind whose events name recent resources of this kind (a prefix ends in `.*`). */
  timelineKind: string;
}

export const KINDS: readonly KindInfo[] = [
  {
    kind: 'evaluation',
    label: 'Evaluation bundle',
    resourceType: 'evaluation',
    holds: 'the SBOM slice, linked advisories, VEX inputs, policy set, engine version, the findings evaluated and the decisions',
    timelineKind: 'policy.evaluated',
  },
  {
    kind: 'job-capsule',
    label: 'Job capsule',
    resourceType: 'job',
    holds: 'the job payload, input digests, outputs, the environment digest (variables hashed) and the command transcript',
    timelineKind: 'job.*',
  },
  { kind: 'export', label: 'Export manifest', resourceType: 'export', holds: 'the exported files with their checksums and the recipients', timelineKind: 'export.completed' },
];

export function kindInfo(kind: string | undefined): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

export interface Bundle {
  bundle_id: string;
  case_id: string;
  kind: string;
  resource_type: string | null;
  resource_id: string | null;
  root_hash: string;
  manifest_digest: string | null;
  signer_key_id: string | null;
  path: string;
  created_at: string;
  retain_until: string | null;
  file_count: number | null;
  content_bytes: number | null;
  timestamped: boolean;
  labels: Record<string, unknown>;
  links: { self: string; archive: string };
}

export interface BundleList {
  bundles: Bundle[];
}

export interface VerificationFailure {
  code: string;
  message: string;
  path?: string;
  keyId?: string;
}

export interface Verification {
  ok: boolean;
  failures: VerificationFailure[];
  root?: string;
  manifest_digest?: string;
  signer?: { keyId: string; algorithm: string };
  created_at?: string;
  file_count: number;
  content_bytes: number;
  timestamp?: { genTime: string; trusted: boolean; covers?: string; tsa?: string; serialNumber?: string; policy?: string };
  format?: string;
  signing_time?: { source: 'asserted' | 'tsa'; time: string; asserted: string; tsa?: string };
  notes?: string[];
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format?: string;
  kind?: string;
  tenant?: string;
  caseId?: string;
  resourceId?: string;
  bundleId?: string;
  createdAt?: string;
  files?: ManifestFile[];
  merkle?: { algorithm: string; leaf: string; treeSize: number; root: string };
  signer?: { keyId: string; algorithm: string };
  metadata?: Record<string, unknown>;
}

export interface Hold {
  case_id: string;
  reason: string;
  placed_by: string | null;
  placed_at: string;
}

export interface BundleDetail {
  bundle: Bundle;
  manifest: Manifest;
  signature: string;
  verification: Verification;
  hold: Hold | null;
}

export interface VerifyAnswer {
  bundle_id: string | null;
  source: 'stored' | 'upload';
  verification: Verification;
}

export interface EvidenceRetention {
  tenant_id: string;
  retention_days: number;
  extended_until: string | null;
  source: 'tenant' | 'default';
}

export interface KeyringAnswer {
  version: 1;
  log: unknown[];
  scope: 'platform' | 'tenant';
  tenant_id: string;
  current_key_id: string | null;
  keys: { key_id: string; algorithm: string; not_before: string; not_after: string | null; revoked_at: string | null; public_key_pem: string }[];
  rotations: { seq: number; op: string; at: string; key_id: string }[];
}

/** `inputs.json` of a snapshot: what the service gathered for it. */
export interface SnapshotInputs {
  resource?: { type: string; id: string };
  artifacts?: { id: string; role: string; name: string; media_type: string; sha256: string; size: number }[];
  timeline?: { event_id: string; kind: string; ts: string; digest: string }[];
  trace_ids?: string[];
  decisions?: number;
}

/** One timeline event, the fields the evidence pages read. */
export interface TimelineEventLite {
  event_id: string;
  ts: string;
  kind: string;
  actor: string | null;
  resource_type: string | null;
  resource_id: string | null;
  trace_id: string | null;
  details: Record<string, unknown>;
}

export interface TimelineAnswer {
  events: TimelineEventLite[];
  next_cursor: string | null;
}

export interface AttestationVerification {
  ok: boolean;
  failures: VerificationFailure[];
  signer_key_ids: string[];
  signed_at: string | null;
  signed_at_source: 'asserted';
}

export interface Attestation {
  id: string;
  subject_id: string;
  subject_digest: string;
  predicate_type: string | null;
  signer_key_id: string | null;
  signed_at: string | null;
  created_at: string;
  origin: string;
  resource_type: string | null;
  resource_id: string | null;
  bundle_id: string | null;
  statement_path: string;
  envelope_digest: string | null;
  status: 'verified' | 'failed';
  verification: AttestationVerification;
}

export interface AttestationDetail {
  attestation: Attestation;
  statement: Record<string, unknown> | null;
}

export interface AttestationList {
  attestations: Attestation[];
}

export interface AttestationVerifyAnswer {
  attestation_id: string | null;
  verification: AttestationVerification;
  statement: Record<string, unknown> | null;
}
