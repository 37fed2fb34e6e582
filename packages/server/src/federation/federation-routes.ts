/**
 * The federation API (FED-1..4):
 * - `POST /federation/consents` signs and records the tenant's consent (audited);
 *   `GET /federation/consents` lists them;
 * - `POST /federation/bundles` builds, signs and records the bundle of the tenant's findings in
 *   a window under a consent (audited as an export); `GET /federation/bundles` lists them,
 *   `GET /federation/bundles/{bundle_id}` gives one with its envelope and its consent's;
 * - `POST /federation/bundles/verify` verifies a bundle with its consent against the service's
 *   trusted key map: 200 when it verifies, else the failure's federation.* code (422; 400 for
 *   `federation.payload.invalid`).
 */
import { isUnsignedFallback, type FederationEnvelope } from '@stellaops/forensics';
import { described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import type { BundleRow, ConsentRow } from './federation-repository.js';
import { BuildResult, BundleBody, BundleDetail, BundleList, BundleParams, ConsentBody, ConsentList, ConsentResult, ListQuery, VerifyBody, VerifyResult } from './federation-schemas.js';
import type { FederationService } from './federation-service.js';

const VERIFY_CODES = [
  'federation.payload.invalid',
  'federation.dsse.payload_type_mismatch',
  'federation.dsse.untrusted_key',
  'federation.dsse.signature_invalid',
  'federation.consent.digest_mismatch',
  'federation.consent.expired',
] as const;
const SIGN_CODES = ['federation.dsse.sign_failed', 'federation.dsse.signer_unavailable'] as const;

/** An envelope as the response schema has it (mutable arrays). */
const envelopeOut = (e: FederationEnvelope) => ({ payloadType: e.payloadType, payload: e.payload, signatures: e.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })) });
const consentOut = (c: ConsentRow) => ({ ...c, envelope: envelopeOut(c.envelope), unsigned: isUnsignedFallback(c.envelope) });
const bundleOut = (b: BundleRow) => {
  const { envelope, ...summary } = b;
  return { ...summary, unsigned: isUnsignedFallback(envelope) };
};

export function federationRoutes(app: ServiceApp, deps: { service: FederationService }): void {
  const { service } = deps;

  app.post(
    '/federation/consents',
    {
      schema: {
        operationId: 'createFederationConsent',
        summary: "Sign and record the tenant's consent to share anonymised aggregates (audited)",
        tags: ['federation'],
        body: ConsentBody,
        response: { 200: described('The same consent was recorded before', ConsentResult), 201: described('The consent is signed and recorded', ConsentResult) },
        'x-error-codes': [...SIGN_CODES, 'federation.payload.invalid', 'federation.consent_conflict'],
      },
    },
    async (request, reply) => {
      const { created, consent } = await service.createConsent(request.auth!.tenant, request.body);
      reply.code(created ? 201 : 200);
      return { created, consent: consentOut(consent) };
    },
  );

  app.get(
    '/federation/consents',
    {
      schema: {
        operationId: 'listFederationConsents',
        summary: "The tenant's consents, newest first",
        tags: ['federation'],
        querystring: ListQuery,
        response: { 200: described('The consents with their envelopes', ConsentList) },
      },
    },
    async (request) => ({ consents: (await service.listConsents(request.auth!.tenant, request.query.limit ?? 100)).map(consentOut) }),
  );

  app.post(
    '/federation/bundles',
    {
      schema: {
        operationId: 'buildFederationBundle',
        summary: "Build, sign and record the bundle of the tenant's findings in a window under a consent (audited as an export)",
        tags: ['federation'],
        body: BundleBody,
        response: { 200: described('The same bundle was exported before (the export is audited again)', BuildResult), 201: described('The bundle is built, signed and recorded', BuildResult) },
        'x-error-codes': [...SIGN_CODES, 'federation.consent_not_found', 'federation.consent.expired', 'federation.payload.invalid', 'federation.window_invalid', 'evidence.storage_unavailable'],
      },
    },
    async (request, reply) => {
      const r = await service.buildBundle(request.auth!.tenant, request.body);
      reply.code(r.created ? 201 : 200);
      return { created: r.created, bundle: bundleOut(r.bundle), envelope: envelopeOut(r.bundle.envelope), bucket_list: r.buckets, findings_documents: r.documents, observations: r.observations, skipped: r.skipped };
    },
  );

  app.get(
    '/federation/bundles',
    {
      schema: {
        operationId: 'listFederationBundles',
        summary: "The tenant's exported bundles, newest first",
        tags: ['federation'],
        querystring: ListQuery,
        response: { 200: described('The bundles (without their envelopes)', BundleList) },
      },
    },
    async (request) => ({ bundles: (await service.listBundles(request.auth!.tenant, { consentId: request.query.consent_id, limit: request.query.limit ?? 100 })).map(bundleOut) }),
  );

  app.get(
    '/federation/bundles/:bundle_id',
    {
      schema: {
        operationId: 'getFederationBundle',
        summary: 'One exported bundle with its envelope and its consent envelope (what a partner installation verifies)',
        tags: ['federation'],
        params: BundleParams,
        response: { 200: described('The bundle', BundleDetail) },
        'x-error-codes': ['federation.bundle_not_found'],
      },
    },
    async (request) => {
      const { bundle, consent } = await service.bundle(request.auth!.tenant, request.params.bundle_id);
      return { bundle: bundleOut(bundle), envelope: envelopeOut(bundle.envelope), consent_envelope: consent ? envelopeOut(consent.envelope) : null };
    },
  );

  app.post(
    '/federation/bundles/verify',
    {
      schema: {
        operationId: 'verifyFederationBundle',
        summary: "Verify a bundle with its consent against the service's trusted key map: envelope, payload type, signature, payload, bucket order, bundle id, consent-digest link and expiry",
        tags: ['federation'],
        body: VerifyBody,
        response: { 200: described('The bundle verifies', VerifyResult) },
        'x-error-codes': [...VERIFY_CODES],
      },
    },
    async (request) => {
      const v = service.verify(request.body.bundle, request.body.consent, request.body.allow_unsigned ?? false);
      return {
        valid: true as const,
        bundle_id: v.bundle.bundleId,
        consent_id: v.consent.consentId,
        tenant_id: v.consent.tenantId,
        created_at: v.bundle.createdAt,
        expires_at: v.consent.expiresAt,
        buckets: [...v.bundle.buckets],
        digest: v.digest,
        consent_digest: v.consentDigest,
        signer_key_id: v.signer.keyId,
        consent_signer_key_id: v.consentSigner.keyId,
        fallback: v.signer.fallback ?? v.consentSigner.fallback,
      };
    },
  );
}
