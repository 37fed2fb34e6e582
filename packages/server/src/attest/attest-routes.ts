/** ATT-2/ATT-3 API: submit or sign, list by subject, read (verified on every read), verify. */
import { Type } from 'typebox';
import { ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import { BoundedInteger, SafeId, SafeJsonObject } from '../http/safe-schema.js';
import type { ServiceApp } from '../service-feature.js';
import type { AttestationRead, AttestationService } from './attestation-service.js';

const ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const SubmitBody = Type.Object(
  {
    subject_id: Type.String({ pattern: ID, description: 'what the attestation is about (a job, export or artifact id); its folder in the object store' }),
    envelope: Type.Optional(SafeJsonObject({ description: 'a DSSE envelope over an in-toto Statement v1, signed by a key of the tenant key ring' })),
    statement: Type.Optional(SafeJsonObject({ description: 'an in-toto Statement v1 for the service to sign with the evidence key' })),
    resource_type: Type.Optional(SafeId({ minLength: 1, maxLength: 64 })),
    resource_id: Type.Optional(SafeId({ minLength: 1, maxLength: 512 })),
    bundle_id: Type.Optional(Type.String({ pattern: ID, description: 'evidence bundle the attestation links to' })),
  },
  { additionalProperties: false },
);

const AttVerification = Type.Object({
  ok: Type.Boolean(),
  failures: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), path: Type.Optional(Type.String()), keyId: Type.Optional(Type.String()) })),
  signer_key_ids: Type.Array(Type.String(), { description: 'keys whose signatures verified' }),
  signed_at: Nullable(Type.String({ description: 'the time the keys were checked at' })),
  signed_at_source: Type.Literal('asserted', { description: "the signing time is the statement's own claim (finishedOn/startedOn): attestations carry no TSA proof" }),
});

const AttestationOut = Type.Object({
  id: Type.String(),
  subject_id: Type.String(),
  subject_digest: Type.String(),
  predicate_type: Nullable(Type.String()),
  signer_key_id: Nullable(Type.String()),
  signed_at: Nullable(Type.String()),
  created_at: Type.String(),
  origin: Type.String(),
  resource_type: Nullable(Type.String()),
  resource_id: Nullable(Type.String()),
  bundle_id: Nullable(Type.String()),
  statement_path: Type.String(),
  envelope_digest: Nullable(Type.String()),
  status: Type.Union([Type.Literal('verified'), Type.Literal('failed')]),
  verification: AttVerification,
});
const AttestationDetail = Type.Object({ attestation: AttestationOut, statement: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]) });

const ListQuery = Type.Object(
  {
    subject_id: Type.Optional(Type.String({ pattern: ID })),
    resource_type: Type.Optional(SafeId({ minLength: 1, maxLength: 64 })),
    resource_id: Type.Optional(SafeId({ minLength: 1, maxLength: 512 })),
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: 200, description: 'default 50' })),
  },
  { additionalProperties: false },
);

const VerifyBody = Type.Object(
  {
    attestation_id: Type.Optional(Type.String({ pattern: ID })),
    envelope: Type.Optional(SafeJsonObject()),
    artifacts: Type.Optional(Type.Array(Type.String({ pattern: '^(sha256:)?[0-9a-f]{64}$' }), { maxItems: 1000, description: 'digests that must each match a subject' })),
  },
  { additionalProperties: false },
);

export function attestationOut(r: AttestationRead) {
  const v = r.verification;
  return {
    attestation: {
      ...r.attestation,
      status: v.ok ? ('verified' as const) : ('failed' as const),
      verification: {
        ok: v.ok,
        failures: v.failures.map((f) => ({ code: f.code, message: f.message, ...(f.path ? { path: f.path } : {}), ...(f.keyId ? { keyId: f.keyId } : {}) })),
        signer_key_ids: [...v.signerKeyIds],
        signed_at: v.signedAt ?? r.attestation.signed_at,
        signed_at_source: 'asserted' as const,
      },
    },
    statement: (r.statement as Record<string, unknown> | undefined) ?? null,
  };
}

export function attestRoutes(app: ServiceApp, deps: { attestations: AttestationService }): void {
  const { attestations } = deps;

  app.post(
    '/attestations',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        operationId: 'submitAttestation',
        summary: 'Record a signed attestation, or have the service sign a statement',
        tags: ['attestations'],
        body: SubmitBody,
        response: { 201: described('The attestation as stored, verified', AttestationDetail) },
        'x-error-codes': ['attestation.invalid', 'evidence.id_invalid', 'evidence.exists', 'evidence.keys_unavailable', 'evidence.storage_unavailable'],
      },
    },
    async (request, reply) => {
      const read = await attestations.submit(request.auth!.tenant, request.body);
      reply.code(201);
      return attestationOut(read);
    },
  );

  app.get(
    '/attestations',
    {
      schema: {
        operationId: 'listAttestations',
        summary: 'Attestations by subject or resource, each verified on read',
        tags: ['attestations'],
        querystring: ListQuery,
        response: { 200: Type.Object({ attestations: Type.Array(AttestationOut) }, { description: 'The attestations of the subject or resource, newest first, each verified on this read' }) },
        'x-error-codes': ['evidence.keys_unavailable'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const q = request.query;
      if (!q.subject_id && !q.resource_id) throw new ServiceError('request.invalid', 'name subject_id or resource_id', { field: 'query.subject_id' });
      const rows = await attestations.list(tenant, { limit: q.limit ?? 50, ...(q.subject_id ? { subject_id: q.subject_id } : {}), ...(q.resource_type ? { resource_type: q.resource_type } : {}), ...(q.resource_id ? { resource_id: q.resource_id } : {}) });
      const reads = [];
      for (const row of rows) reads.push(attestationOut(await attestations.read(tenant, row.id)).attestation);
      return { attestations: reads };
    },
  );

  app.get(
    '/attestations/:id',
    {
      schema: {
        operationId: 'getAttestation',
        summary: 'One attestation with its statement, verified on read (signer, time, status)',
        tags: ['attestations'],
        params: Type.Object({ id: Type.String({ pattern: ID }) }, { additionalProperties: false }),
        response: { 200: described('The attestation and its statement, verified on this read', AttestationDetail) },
        'x-error-codes': ['evidence.id_invalid', 'attestation.not_found', 'evidence.keys_unavailable'],
      },
    },
    async (request) => attestationOut(await attestations.read(request.auth!.tenant, request.params.id)),
  );

  app.post(
    '/attestations/verify',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        operationId: 'verifyAttestation',
        summary: 'Verify a stored attestation by id, or an envelope against the tenant key ring',
        tags: ['attestations'],
        body: VerifyBody,
        response: {
          200: Type.Object(
            { attestation_id: Nullable(Type.String()), verification: AttVerification, statement: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]) },
            { description: 'The verification: ok, or the failures found (an attestation that does not verify is still a 200)' },
          ),
        },
        'x-error-codes': ['evidence.id_invalid', 'attestation.not_found', 'attestation.invalid', 'evidence.keys_unavailable'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const b = request.body;
      if ((b.attestation_id === undefined) === (b.envelope === undefined)) {
        throw new ServiceError('request.invalid', 'send either attestation_id or envelope', { field: 'body.attestation_id' });
      }
      if (b.attestation_id) {
        const out = attestationOut(await attestations.read(tenant, b.attestation_id));
        return { attestation_id: b.attestation_id, verification: out.attestation.verification, statement: out.statement };
      }
      const v = await attestations.verifySubmitted(tenant, b.envelope, b.artifacts);
      return {
        attestation_id: null,
        verification: { ok: v.ok, failures: v.failures.map((f) => ({ code: f.code, message: f.message, ...(f.path ? { path: f.path } : {}) })), signer_key_ids: [...v.signerKeyIds], signed_at: v.signedAt ?? null, signed_at_source: 'asserted' as const },
        statement: (v.statement as Record<string, unknown> | undefined) ?? null,
      };
    },
  );
}
