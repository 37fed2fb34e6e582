/** EVI-4 API: artifacts, snapshots, bundles and their archives, verification, legal hold, retention. */
import { Transform, type Readable } from 'node:stream';
import type { BundleVerification } from '@stellaops/forensics';
import { ServiceError } from '../errors.js';
import { binaryResponse, described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MAX_FILE_READ_BYTES, type EvidenceLocker } from './evidence-locker.js';
import type { EvidenceRepository } from './evidence-repository.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import type { BundleRow } from './evidence-repository.js';
import {
  Artifact,
  ArtifactBody,
  Bundle,
  BundleDetail,
  BundleFileParams,
  BundleList,
  BundleParams,
  CaseParams,
  DeleteResult,
  HoldBody,
  HoldResult,
  ListQuery,
  Retention,
  RetentionUpdate,
  SnapshotBody,
  VerifyResult,
} from './evidence-schemas.js';
import type { SnapshotService } from './snapshot-service.js';
import { checkEvidenceDays, RETENTION_BOUNDS } from '../retention/policy.js';

const ALLOWED = { min_days: RETENTION_BOUNDS.evidence.min, max_days: RETENTION_BOUNDS.evidence.max };

export interface EvidenceRouteDeps {
  locker: EvidenceLocker;
  repository: EvidenceRepository;
  audit: AuditTrail;
  snapshots: SnapshotService;
  /** Largest archive accepted by `POST /evidence/verify`. Default 256 MiB. */
  maxUploadBytes?: number;
}

const BUNDLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The media type a bundle file is served as, by its extension. */
export function fileMediaType(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'json') return 'application/json';
  if (ext === 'txt' || ext === 'md' || ext === 'log') return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
const TAR_TYPES = ['application/x-tar', 'application/octet-stream'];

export function bundleOut(row: BundleRow) {
  return {
    bundle_id: row.id,
    case_id: row.case_id,
    kind: row.kind,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    root_hash: row.root_hash,
    manifest_digest: row.manifest_digest,
    signer_key_id: row.signer_key_id,
    path: row.path,
    created_at: row.created_at,
    retain_until: row.retain_until,
    file_count: row.file_count,
    content_bytes: row.content_bytes,
    timestamped: row.timestamped,
    labels: row.labels,
    links: { self: `/evidence/${row.id}`, archive: `/evidence/${row.id}/archive` },
  };
}

export function verificationOut(v: BundleVerification) {
  return {
    ok: v.ok,
    failures: v.failures.map((f) => ({ code: f.code, message: f.message, ...(f.path ? { path: f.path } : {}), ...(f.keyId ? { keyId: f.keyId } : {}) })),
    ...(v.root ? { root: v.root } : {}),
    ...(v.manifestDigest ? { manifest_digest: v.manifestDigest } : {}),
    ...(v.signer ? { signer: v.signer } : {}),
    ...(v.createdAt ? { created_at: v.createdAt } : {}),
    file_count: v.fileCount,
    content_bytes: v.contentBytes,
    ...(v.timestamp ? { timestamp: v.timestamp } : {}),
    ...(v.format ? { format: v.format } : {}),
    ...(v.signingTime ? { signing_time: v.signingTime } : {}),
    ...(v.notes.length ? { notes: [...v.notes] } : {}),
  };
}

/** Passes bytes through, failing once more than `max` have gone by. */
function capped(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new ServiceError('request.body_too_large', `the archive is larger than the ${max} bytes this route accepts`));
      else done(null, chunk);
    },
  });
}

export async function evidenceRoutes(app: ServiceApp, deps: EvidenceRouteDeps): Promise<void> {
  const { locker, snapshots, repository, audit } = deps;
  const maxUpload = deps.maxUploadBytes ?? 256 * 1024 * 1024;

  // Archives are verified as they stream in, never buffered whole.
  await app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    for (const type of TAR_TYPES) scope.addContentTypeParser(type, (_request, payload, done) => done(null, payload));

    scope.post(
      '/evidence/artifacts',
      {
        bodyLimit: 16 * 1024 * 1024,
        schema: {
          operationId: 'attachArtifact',
          summary: 'Attach an input artifact to a resource (content-addressed, immutable)',
          tags: ['evidence'],
          body: ArtifactBody,
          response: { 200: described('The same artifact was attached before: nothing changed', Artifact), 201: described('The artifact is stored and attached', Artifact) },
          'x-error-codes': ['evidence.id_invalid', 'evidence.archive_invalid', 'evidence.artifact_conflict', 'evidence.storage_unavailable'],
        },
      },
      async (request, reply) => {
        const b = request.body;
        const content = Buffer.from(b.content_base64, 'base64');
        if (content.toString('base64').replace(/=+$/, '') !== b.content_base64.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')) {
          throw new ServiceError('request.invalid', 'body.content_base64 is not valid base64', { field: 'body.content_base64' });
        }
        const { artifact, created } = await snapshots.attach(request.auth!.tenant, {
          resource_type: b.resource_type,
          resource_id: b.resource_id,
          role: b.role as never,
          name: b.name,
          media_type: b.media_type ?? 'application/octet-stream',
          content,
          ...(b.digest ? { digest: b.digest } : {}),
        });
        reply.code(created ? 201 : 200);
        const { sha256, ...rest } = artifact;
        return { ...rest, digest: `sha256:${sha256}`, created };
      },
    );

    scope.post(
      '/evidence/snapshot',
      {
        schema: {
          operationId: 'createSnapshot',
          summary: 'Gather, sign and commit an evidence bundle for a resource',
          tags: ['evidence'],
          body: SnapshotBody,
          response: { 201: described('The bundle, signed and committed', Bundle) },
          'x-error-codes': ['evidence.inputs_missing', 'evidence.id_invalid', 'evidence.exists', 'evidence.snapshot_in_progress', 'evidence.keys_unavailable', 'evidence.storage_unavailable', 'evidence.timestamp_failed'],
        },
      },
      async (request, reply) => {
        const row = await snapshots.snapshot(request.auth!.tenant, request.body);
        reply.code(201);
        return bundleOut(row);
      },
    );

    scope.get(
      '/evidence',
      { schema: { operationId: 'listBundles', summary: "List the tenant's bundles, newest first", tags: ['evidence'], querystring: ListQuery, response: { 200: described("The tenant's bundles, newest first", BundleList) } } },
      async (request) => {
        const q = request.query;
        const rows = await repository.listBundles(request.auth!.tenant, {
          limit: q.limit ?? 100,
          ...(q.case_id ? { case_id: q.case_id } : {}),
          ...(q.resource_type ? { resource_type: q.resource_type } : {}),
          ...(q.resource_id ? { resource_id: q.resource_id } : {}),
        });
        return { bundles: rows.map(bundleOut) };
      },
    );

    scope.get(
      '/evidence/:bundle_id',
      {
        schema: {
          operationId: 'getBundle',
          summary: 'A bundle: manifest, signed hashes and verification status (verified on every read)',
          tags: ['evidence'],
          params: BundleParams,
          response: { 200: described('The bundle with its manifest, signature, legal hold and a verification made on this read', BundleDetail) },
          'x-error-codes': ['evidence.id_invalid', 'evidence.not_found', 'evidence.keys_unavailable', 'evidence.storage_unavailable'],
        },
      },
      async (request) => {
        const d = await locker.describe(request.auth!.tenant, request.params.bundle_id);
        return { bundle: bundleOut(d.bundle), manifest: d.manifest as never, signature: d.signature, verification: verificationOut(d.verification), hold: d.hold ?? null };
      },
    );

    scope.get(
      '/evidence/:bundle_id/archive',
      {
        schema: {
          operationId: 'downloadBundleArchive',
          summary: 'The deterministic tar of a bundle, for offline verification (audited export)',
          tags: ['evidence'],
          params: BundleParams,
          response: {
            200: binaryResponse('application/x-tar', 'The bundle as a deterministic tar (verify it offline with `stella forensic verify`)', {
              'Content-Disposition': 'attachment; filename="<bundle_id>.tar"',
              'x-stella-root-hash': "the bundle's Merkle root as recorded at commit",
            }),
          },
          'x-error-codes': ['evidence.id_invalid', 'evidence.not_found', 'evidence.storage_unavailable'],
        },
      },
      async (request, reply) => {
        const tenant = request.auth!.tenant;
        const { row, stream, size } = await locker.archive(tenant, request.params.bundle_id);
        await audit.event(tenant, {
          kind: 'audit.evidence.exported',
          resource_type: 'evidence_bundle',
          resource_id: row.id,
          details: { case_id: row.case_id, root_hash: row.root_hash, bytes: size, granted_by: request.auth!.grantedBy },
        });
        void reply
          .header('content-type', 'application/x-tar')
          .header('content-length', size)
          .header('content-disposition', `attachment; filename="${row.id}.tar"`)
          .header('x-stella-root-hash', row.root_hash);
        return reply.send(stream as never);
      },
    );

    scope.get(
      '/evidence/:bundle_id/files/*',
      {
        schema: {
          operationId: 'readBundleFile',
          summary: `One file of a bundle, by its path in the manifest, served only if its size and SHA-256 match the signed manifest (at most ${MAX_FILE_READ_BYTES / (1024 * 1024)} MiB; larger: the archive)`,
          tags: ['evidence'],
          params: BundleFileParams,
          response: {
            200: binaryResponse(
              ['application/json', 'text/plain', 'application/octet-stream'],
              "The file's bytes as committed: application/json for .json, text/plain; charset=utf-8 for .txt, .md and .log, else application/octet-stream",
              { 'x-stella-file-digest': 'sha256:<hex> of the bytes, as the signed manifest records it' },
            ),
          },
          'x-error-codes': ['evidence.id_invalid', 'evidence.not_found', 'evidence.file_not_found', 'evidence.file_too_large', 'evidence.integrity_failed', 'evidence.storage_unavailable'],
        },
      },
      async (request, reply) => {
        const { file, body } = await locker.readFile(request.auth!.tenant, request.params.bundle_id, request.params['*']);
        void reply.header('content-type', fileMediaType(file.path)).header('content-length', body.length).header('x-stella-file-digest', `sha256:${file.sha256}`);
        return reply.send(body);
      },
    );

    scope.delete(
      '/evidence/:bundle_id',
      {
        schema: {
          operationId: 'deleteBundle',
          summary: 'Delete a bundle past its retention (refused, and audited, under legal hold or retention)',
          tags: ['evidence'],
          params: BundleParams,
          response: { 200: described('The bundle is deleted (audited)', DeleteResult) },
          'x-error-codes': ['evidence.id_invalid', 'evidence.not_found', 'evidence.on_hold', 'evidence.retained', 'evidence.storage_unavailable'],
        },
      },
      async (request) => {
        await locker.delete(request.auth!.tenant, request.params.bundle_id, { actor: request.auth!.principal.subject, via: 'api' });
        return { bundle_id: request.params.bundle_id, deleted: true as const };
      },
    );

    scope.post(
      '/evidence/verify',
      {
        schema: {
          operationId: 'verifyBundle',
          summary: 'Verify a stored bundle ({"bundle_id"}) or an uploaded archive (Content-Type application/x-tar)',
          tags: ['evidence'],
          response: { 200: described('The verification: ok, or the failures found (a bundle that does not verify is still a 200)', VerifyResult) },
          'x-error-codes': ['evidence.id_invalid', 'evidence.not_found', 'evidence.keys_unavailable', 'evidence.storage_unavailable'],
        },
      },
      async (request) => {
        const tenant = request.auth!.tenant;
        const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (TAR_TYPES.includes(type)) {
          const body = request.body as Readable;
          const verification = await locker.verifyStream(tenant, body.pipe(capped(maxUpload)));
          // An archive of another tenant is not this tenant's evidence, whatever its signature.
          const failures = [...verification.failures];
          if (verification.manifest && verification.manifest.tenant !== tenant) {
            failures.push({ code: 'manifest_invalid', message: 'the archive belongs to another tenant', path: 'manifest.json' });
          }
          return { bundle_id: verification.manifest?.bundleId ?? null, source: 'upload' as const, verification: verificationOut({ ...verification, ok: failures.length === 0, failures }) };
        }
        const body = request.body as { bundle_id?: unknown } | undefined;
        if (!body || typeof body !== 'object' || typeof body.bundle_id !== 'string' || Object.keys(body).length !== 1 || !BUNDLE_ID.test(body.bundle_id)) {
          throw new ServiceError('request.invalid', 'send {"bundle_id": "<id>"} as JSON, or the archive itself as application/x-tar', { field: 'body.bundle_id' });
        }
        const { row, verification } = await locker.verifyStored(tenant, body.bundle_id);
        return { bundle_id: row.id, source: 'stored' as const, verification: verificationOut(verification) };
      },
    );

    scope.post(
      '/evidence/hold/:case_id',
      {
        schema: {
          operationId: 'setLegalHold',
          summary: 'Place or release the legal hold on a case (audited)',
          tags: ['evidence'],
          params: CaseParams,
          body: HoldBody,
          response: { 200: described("The case's hold as placed or released, and the bundles it covers", HoldResult) },
          'x-error-codes': ['evidence.id_invalid', 'evidence.storage_unavailable'],
        },
      },
      async (request) => {
        const auth = request.auth!;
        const { held, bundles, event } = await locker.setHold(auth.tenant, request.params.case_id, request.body.action, request.body.reason, auth.principal.subject);
        return { case_id: request.params.case_id, held, reason: request.body.reason, bundles, audit_event_id: event.event_id };
      },
    );

    scope.get(
      '/evidence/retention',
      { schema: { operationId: 'getEvidenceRetention', summary: "The tenant's evidence retention", tags: ['evidence'], response: { 200: described("The tenant's evidence retention, incident extension and the bounds retention may be set within", Retention) } } },
      async (request) => {
        const tenant = request.auth!.tenant;
        return { tenant_id: tenant, ...(await repository.settings(tenant)), allowed: ALLOWED };
      },
    );

    scope.put(
      '/evidence/retention',
      {
        schema: {
          operationId: 'setEvidenceRetention',
          summary: `Change the tenant's evidence retention (${RETENTION_BOUNDS.evidence.min}-${RETENTION_BOUNDS.evidence.max} days) or incident extension (audited)`,
          tags: ['evidence'],
          body: RetentionUpdate,
          response: { 200: described("The tenant's evidence retention as changed", Retention) },
          'x-error-codes': ['retention.out_of_bounds'],
        },
      },
      async (request) => {
        const auth = request.auth!;
        const body = request.body;
        // 400 retention.out_of_bounds naming the floor or ceiling; nothing is changed or audited.
        if (body.retention_days !== undefined) checkEvidenceDays(body.retention_days);
        const settings = await audit.record(auth.tenant, async (tx, record) => {
          const { before, after } = await repository.updateSettings(
            tx,
            auth.tenant,
            {
              ...(body.retention_days !== undefined ? { retention_days: body.retention_days } : {}),
              ...(body.extended_until !== undefined ? { extended_until: body.extended_until === null ? null : new Date(body.extended_until).toISOString() } : {}),
            },
            auth.principal.subject,
          );
          await record({
            kind: 'audit.evidence.retention_changed',
            resource_type: 'evidence_settings',
            resource_id: auth.tenant,
            details: { previous: { retention_days: before.retention_days, extended_until: before.extended_until }, change: body, granted_by: auth.grantedBy },
          });
          return after;
        });
        return { tenant_id: auth.tenant, ...settings, allowed: ALLOWED };
      },
    );
  });
}
