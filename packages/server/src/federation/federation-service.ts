/**
 * Federated telemetry (FED-1..4) in the service: consent proofs and aggregate bundles built,
 * signed and verified with the forensics library's federation core (the same code `stella
 * federation` runs offline), recorded and audited here.
 *
 * Where the buckets come from: the tenant's findings, as the Policy Engine attaches them to each
 * evaluation — the evidence artifact named `findings.json` on resources of type `evaluation`
 * (`POST /evidence/artifacts`), a JSON array of findings with `advisory_id` and `vex_status` —
 * whose attachment time falls in the bundle's window [from, to). Each finding is one
 * observation of its advisory id (the bucket's `cveId`) in one artifact, the evaluation it is
 * attached to; it is noisy when its VEX status is `not_affected` (or `false_positive`): the
 * scanner flagged it, but it does not apply. Buckets seen in fewer than k evaluations
 * (`STELLA_FEDERATION_MIN_ARTIFACTS`, default 5) are left out. Nothing else leaves: no tenant,
 * component, evaluation or artifact id — only ids of public advisories and counts.
 *
 * Every consent and every export is an `audit.federation.*` event on the tenant's timeline,
 * committed with the row it records.
 */
import {
  buildFederationBundle,
  canonicalFederationEnvelope,
  createFederationConsent,
  federationEnvelopeDigest,
  FederationError,
  isUnsignedFallback,
  observationsFromFindings,
  verifyFederationBundle,
  type FederationBucket,
  type FederationEnvelope,
  type FederationObservation,
} from '@stellaops/forensics';
import type { Logger } from '@stellaops/telemetry-core';
import { artifactKey } from '../blob/object-keys.js';
import type { ObjectStore } from '../blob/object-store.js';
import { ServiceError } from '../errors.js';
import type { EvidenceRepository } from '../evidence/evidence-repository.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import type { FederationKeys } from './federation-keys.js';
import type { BundleRow, ConsentRow, FederationRepository } from './federation-repository.js';

/** Findings documents one bundle reads at most. */
export const MAX_FINDINGS_DOCUMENTS = 10_000;
/** Largest findings document read, in bytes (a larger one is skipped and counted). */
export const MAX_FINDINGS_BYTES = 32 * 1024 * 1024;
/** Widest window a bundle aggregates, in days. */
export const MAX_BUNDLE_WINDOW_DAYS = 366;
/** The evidence artifacts buckets come from. */
export const FINDINGS_SOURCE = { resourceType: 'evaluation', name: 'findings.json' } as const;

export interface FederationServiceOptions {
  repository: FederationRepository;
  keys: FederationKeys;
  audit: AuditTrail;
  evidence: { repository: EvidenceRepository; objects: ObjectStore };
  minArtifacts: number;
  logger: Logger;
  clock: () => number;
}

export interface ConsentRequest {
  consent_id?: string | undefined;
  granted_by: string;
  purpose: string;
  expires_at: string;
  granted_at?: string | undefined;
}

export interface BundleRequest {
  consent_id: string;
  from: string;
  to: string;
  created_at?: string | undefined;
}

/** The library's federation errors as the catalogue's answers (the codes are the same). */
async function asService<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FederationError) throw new ServiceError(error.code, error.message, { cause: error });
    throw error;
  }
}

const signerOf = (env: FederationEnvelope): string | null => (isUnsignedFallback(env) ? null : (env.signatures[0]?.keyid ?? null));

export class FederationService {
  constructor(private readonly options: FederationServiceOptions) {}

  /** Signs and records a consent of the tenant (audited); the same consent id with other content is a 409. */
  async createConsent(tenant: string, request: ConsentRequest): Promise<{ created: boolean; consent: ConsentRow }> {
    const { envelope, consent } = await asService(() =>
      createFederationConsent(
        {
          ...(request.consent_id ? { consentId: request.consent_id } : {}),
          tenantId: tenant,
          grantedBy: request.granted_by,
          grantedAt: request.granted_at ?? new Date(this.options.clock()).toISOString(),
          expiresAt: request.expires_at,
          purpose: request.purpose,
        },
        this.options.keys.signOptions(),
      ),
    );
    const digest = federationEnvelopeDigest(envelope);
    const signer = signerOf(envelope);
    return this.options.audit.record(tenant, async (tx, audit) => {
      const { created, row } = await this.options.repository.insertConsent(tx, tenant, {
        consent_id: consent.consentId,
        tenant_id: tenant,
        granted_by: consent.grantedBy,
        granted_at: consent.grantedAt,
        expires_at: consent.expiresAt,
        purpose: consent.purpose,
        digest,
        signer_key_id: signer,
        envelope: canonicalFederationEnvelope(envelope),
      });
      if (!created) {
        const same = row.granted_by === consent.grantedBy && row.granted_at === consent.grantedAt && row.expires_at === consent.expiresAt && row.purpose === consent.purpose;
        if (!same) throw new ServiceError('federation.consent_conflict', `consent ${consent.consentId} was recorded before with other content; consents are immutable`, { field: 'body.consent_id' });
        return { created: false, consent: row };
      }
      await audit({
        kind: 'audit.federation.consent_granted',
        resource_type: 'federation_consent',
        resource_id: consent.consentId,
        details: { digest, granted_by: consent.grantedBy, granted_at: consent.grantedAt, expires_at: consent.expiresAt, purpose: consent.purpose, signer_key_id: signer, unsigned: signer === null },
      });
      return { created: true, consent: row };
    });
  }

  listConsents(tenant: string, limit: number): Promise<ConsentRow[]> {
    return this.options.repository.consents(tenant, limit);
  }

  async consent(tenant: string, consentId: string): Promise<ConsentRow> {
    const row = await this.options.repository.consent(tenant, consentId);
    if (!row) throw new ServiceError('federation.consent_not_found', `no consent ${consentId} in the tenant`, { field: 'body.consent_id' });
    return row;
  }

  /** The observations of the tenant's findings attached in [from, to), with what was skipped. */
  async observations(tenant: string, fromMs: number, toMs: number): Promise<{ observations: FederationObservation[]; documents: number; skipped: number }> {
    const { repository, objects } = this.options.evidence;
    const artifacts = await repository.artifactsNamed(tenant, { ...FINDINGS_SOURCE, from: new Date(fromMs), to: new Date(toMs), limit: MAX_FINDINGS_DOCUMENTS + 1 });
    if (artifacts.length > MAX_FINDINGS_DOCUMENTS) {
      throw new ServiceError('federation.window_invalid', `the window holds more than ${MAX_FINDINGS_DOCUMENTS} findings documents; narrow it`, { field: 'body.from', extra: { allowed: { max_documents: MAX_FINDINGS_DOCUMENTS } } });
    }
    const observations: FederationObservation[] = [];
    let skipped = 0;
    for (const a of artifacts) {
      if (a.size > MAX_FINDINGS_BYTES) {
        skipped++;
        continue;
      }
      let doc: unknown;
      try {
        doc = JSON.parse((await objects.read(`${artifactKey(tenant, a.sha256)}/content`)).toString('utf8'));
      } catch (error) {
        if (error instanceof SyntaxError) {
          skipped++;
          continue;
        }
        throw error;
      }
      const found = observationsFromFindings(`${a.resource_type}/${a.resource_id}`, doc);
      observations.push(...found.observations);
      skipped += found.skipped;
    }
    return { observations, documents: artifacts.length, skipped };
  }

  /**
   * Builds, signs and records the bundle of the tenant's findings in [from, to) under a consent
   * (audited as an export). createdAt defaults to `to`, so the same window and findings give the
   * same bundle, byte for byte.
   */
  async buildBundle(tenant: string, request: BundleRequest): Promise<{ created: boolean; bundle: BundleRow; buckets: FederationBucket[]; documents: number; observations: number; skipped: number }> {
    const fromMs = Date.parse(request.from);
    const toMs = Date.parse(request.to);
    if (!(fromMs < toMs)) throw new ServiceError('federation.window_invalid', 'from must be before to', { field: 'body.from' });
    if (toMs - fromMs > MAX_BUNDLE_WINDOW_DAYS * 86_400_000) throw new ServiceError('federation.window_invalid', `the window is longer than ${MAX_BUNDLE_WINDOW_DAYS} days`, { field: 'body.from' });
    const consent = await this.consent(tenant, request.consent_id);
    const { observations, documents, skipped } = await this.observations(tenant, fromMs, toMs);
    const k = this.options.minArtifacts;
    const built = await asService(() =>
      buildFederationBundle({ consent: consent.envelope, createdAt: request.created_at ?? new Date(toMs).toISOString(), observations, minArtifacts: k }, this.options.keys.signOptions()),
    );
    const digest = federationEnvelopeDigest(built.envelope);
    const signer = signerOf(built.envelope);
    const result = await this.options.audit.record(tenant, async (tx, audit) => {
      const stored = await this.options.repository.insertBundle(tx, tenant, {
        bundle_id: built.payload.bundleId,
        consent_id: consent.consent_id,
        consent_digest: built.payload.consentDigest,
        created_at: built.payload.createdAt,
        window_from: new Date(fromMs).toISOString(),
        window_to: new Date(toMs).toISOString(),
        min_artifacts: k,
        buckets: built.payload.buckets.length,
        suppressed: built.suppressed,
        digest,
        signer_key_id: signer,
        envelope: canonicalFederationEnvelope(built.envelope),
      });
      // Every export is audited, a repeated one too: each is a time the aggregates were handed out.
      await audit({
        kind: 'audit.federation.bundle_exported',
        resource_type: 'federation_bundle',
        resource_id: built.payload.bundleId,
        details: {
          consent_id: consent.consent_id,
          consent_digest: built.payload.consentDigest,
          created_at: built.payload.createdAt,
          window: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
          min_artifacts: k,
          buckets: built.payload.buckets.length,
          suppressed: built.suppressed,
          digest,
          signer_key_id: signer,
          unsigned: signer === null,
        },
      });
      return stored;
    });
    return { ...result, bundle: result.row, buckets: [...built.payload.buckets], documents, observations: observations.length, skipped };
  }

  listBundles(tenant: string, q: { consentId?: string | undefined; limit: number }): Promise<BundleRow[]> {
    return this.options.repository.bundles(tenant, q);
  }

  async bundle(tenant: string, bundleId: string): Promise<{ bundle: BundleRow; consent: ConsentRow | undefined }> {
    const bundle = await this.options.repository.bundle(tenant, bundleId);
    if (!bundle) throw new ServiceError('federation.bundle_not_found', `no bundle ${bundleId} in the tenant`, { field: 'params.bundle_id' });
    return { bundle, consent: await this.options.repository.consent(tenant, bundle.consent_id) };
  }

  /** Verifies a bundle with its consent against the trusted key map; a failure is its federation.* answer. */
  verify(bundle: unknown, consent: unknown, allowUnsigned: boolean) {
    const v = verifyFederationBundle(bundle, consent, this.options.keys.trust(allowUnsigned));
    if (!v.ok) throw new ServiceError(v.code, v.message);
    return v;
  }
}
