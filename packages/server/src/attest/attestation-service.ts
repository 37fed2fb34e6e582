/**
 * Attestations (SPEC ATT-1..3): services submit DSSE-signed in-toto statements, or ask the
 * service to sign one with the tenant's evidence key. Statements are stored write-once under
 * `tenants/<tenant>/attestations/<subject>/<id>/statement.dsse.json`, and every read verifies
 * signature, key validity and the recorded subject digest again (ATT-2).
 */
import { createHash } from 'node:crypto';
import {
  IN_TOTO_STATEMENT_V1,
  parseDsseEnvelope,
  signStatement,
  verifyAttestation,
  type AttestationVerification,
  type DsseEnvelope,
  type InTotoStatement,
} from '@stellaops/forensics';
import { uuidv7 } from '@stellaops/telemetry-core';
import { BlobError } from '../blob/blob-error.js';
import { attestationPrefix, isValidSegment } from '../blob/object-keys.js';
import { ServiceError } from '../errors.js';
import type { ObjectStore } from '../blob/object-store.js';
import type { KeyManager } from '../keys/key-manager.js';
import type { SqlStore } from '../store/sql-store.js';
import type { AuditTrail } from '../timeline/audit-trail.js';

export interface AttestationRow {
  id: string;
  tenant_id: string;
  subject_id: string;
  subject_digest: string;
  statement_path: string;
  signer_key_id: string | null;
  created_at: string;
  predicate_type: string | null;
  envelope_digest: string | null;
  resource_type: string | null;
  resource_id: string | null;
  bundle_id: string | null;
  signed_at: string | null;
  origin: 'submitted' | 'signed';
}

export interface AttestationRead {
  attestation: AttestationRow;
  statement: InTotoStatement<unknown> | undefined;
  verification: AttestationVerification;
}

export interface SubmitAttestation {
  subject_id: string;
  envelope?: unknown;
  statement?: unknown;
  resource_type?: string;
  resource_id?: string;
  bundle_id?: string;
}

const STATEMENT_FILE = 'statement.dsse.json';

function iso(v: unknown): string {
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

function toRow(r: Record<string, unknown>): AttestationRow {
  const s = (k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
  return {
    id: String(r['id']),
    tenant_id: String(r['tenant_id']),
    subject_id: String(r['subject_id']),
    subject_digest: String(r['subject_digest']),
    statement_path: String(r['statement_path']),
    signer_key_id: s('signer_key_id'),
    created_at: iso(r['created_at']),
    predicate_type: s('predicate_type'),
    envelope_digest: s('envelope_digest'),
    resource_type: s('resource_type'),
    resource_id: s('resource_id'),
    bundle_id: s('bundle_id'),
    signed_at: r['signed_at'] ? iso(r['signed_at']) : null,
    origin: r['origin'] === 'signed' ? 'signed' : 'submitted',
  };
}

function statementOf(envelope: DsseEnvelope): InTotoStatement<unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as InTotoStatement<unknown>;
  } catch {
    return undefined;
  }
}

function checkStatement(value: unknown): InTotoStatement<unknown> {
  const s = value as Partial<InTotoStatement<unknown>> | null;
  if (!s || typeof s !== 'object' || s._type !== IN_TOTO_STATEMENT_V1 || !Array.isArray(s.subject) || s.subject.length === 0 || typeof s.predicateType !== 'string') {
    throw new ServiceError('attestation.invalid', `the statement must be an in-toto Statement v1 (_type ${IN_TOTO_STATEMENT_V1}) with subjects and a predicateType`, { field: 'body.statement' });
  }
  for (const [i, sub] of s.subject.entries()) {
    if (!sub || typeof sub.name !== 'string' || !/^[0-9a-f]{64}$/.test(String(sub.digest?.['sha256'] ?? ''))) {
      throw new ServiceError('attestation.invalid', `subject[${i}] needs a name and a sha256 digest (64 lowercase hex)`, { field: `body.statement.subject[${i}]` });
    }
  }
  return s as InTotoStatement<unknown>;
}

/** When the key must have been valid: the predicate's run times, else the record's time. */
function signedAtOf(statement: InTotoStatement<unknown> | undefined, fallback: Date): Date {
  const md = (statement?.predicate as { runDetails?: { metadata?: { finishedOn?: string; startedOn?: string } } } | undefined)?.runDetails?.metadata;
  const t = md?.finishedOn ?? md?.startedOn;
  const d = t ? new Date(t) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : fallback;
}

/** What the attestation service uses: the store (its table), the key manager, the object store and the audit trail. */
export interface AttestationDeps {
  store: SqlStore;
  keys: Pick<KeyManager, 'activeKey' | 'document'>;
  objects: ObjectStore;
  audit: AuditTrail;
  clock: () => number;
}

export class AttestationService {
  constructor(private readonly deps: AttestationDeps) {}

  async submit(tenant: string, input: SubmitAttestation): Promise<AttestationRead> {
    if (!isValidSegment(input.subject_id)) {
      throw new ServiceError('evidence.id_invalid', 'subject_id must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit', { field: 'body.subject_id' });
    }
    if ((input.envelope === undefined) === (input.statement === undefined)) {
      throw new ServiceError('attestation.invalid', 'send either "envelope" (a signed DSSE envelope) or "statement" (for the service to sign), not both', { field: 'body' });
    }
    const now = new Date(this.deps.clock());
    let envelope: DsseEnvelope;
    let origin: AttestationRow['origin'];
    let signedAt: Date;
    if (input.statement !== undefined) {
      const statement = checkStatement(input.statement);
      const { signer } = await this.deps.keys.activeKey(tenant, now).catch((error: unknown) => {
        throw new ServiceError('evidence.keys_unavailable', 'the signing key is unavailable; see the service log', { cause: error });
      });
      envelope = await signStatement(statement, signer);
      origin = 'signed';
      signedAt = now;
    } else {
      try {
        envelope = parseDsseEnvelope(input.envelope);
      } catch (error) {
        throw new ServiceError('attestation.invalid', `envelope: ${(error as Error).message}`, { field: 'body.envelope' });
      }
      checkStatement(statementOf(envelope));
      origin = 'submitted';
      signedAt = signedAtOf(statementOf(envelope), now);
    }
    const statement = statementOf(envelope)!;
    const verification = await this.verifyEnvelope(tenant, envelope, signedAt);
    if (!verification.ok) {
      throw new ServiceError('attestation.invalid', `the envelope does not verify against this tenant's key ring: ${verification.failures.map((f) => f.message).join('; ')}`, {
        field: 'body.envelope',
      });
    }
    const subjectDigest = statement.subject[0]!.digest['sha256']!;
    const id = uuidv7();
    const prefix = attestationPrefix(tenant, input.subject_id, id);
    const bytes = Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8');
    try {
      await this.deps.objects.commit(prefix, [{ path: STATEMENT_FILE, body: bytes }], {});
    } catch (error) {
      throw new ServiceError(error instanceof BlobError && error.code === 'blob.exists' ? 'evidence.exists' : 'evidence.storage_unavailable', 'the attestation could not be stored; retry shortly', { cause: error });
    }
    const row: AttestationRow = {
      id,
      tenant_id: tenant,
      subject_id: input.subject_id,
      subject_digest: `sha256:${subjectDigest}`,
      statement_path: `${prefix}${STATEMENT_FILE}`,
      signer_key_id: verification.signerKeyIds[0] ?? null,
      created_at: now.toISOString(),
      predicate_type: statement.predicateType,
      envelope_digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      resource_type: input.resource_type ?? null,
      resource_id: input.resource_id ?? null,
      bundle_id: input.bundle_id ?? null,
      signed_at: signedAt.toISOString(),
      origin,
    };
    await this.deps.audit.record(tenant, async (tx, audit) => {
      await tx.query(
        `INSERT INTO attestations (tenant_id, id, subject_id, subject_digest, statement_path, signer_key_id, created_at, predicate_type, envelope_digest,
           resource_type, resource_id, bundle_id, signed_at, origin) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
        [tenant, id, row.subject_id, row.subject_digest, row.statement_path, row.signer_key_id, row.created_at, row.predicate_type, row.envelope_digest, row.resource_type, row.resource_id, row.bundle_id, row.signed_at, origin],
      );
      await audit({
        kind: 'attestation.recorded',
        resource_type: input.resource_type ?? 'attestation_subject',
        resource_id: input.resource_id ?? input.subject_id,
        details: { attestation_id: id, subject_id: row.subject_id, subject_digest: row.subject_digest, predicate_type: row.predicate_type, signer_key_id: row.signer_key_id, origin, bundle_id: row.bundle_id },
      });
    });
    return { attestation: row, statement, verification };
  }

  private async verifyEnvelope(tenant: string, envelope: DsseEnvelope, signedAt: Date, artifacts?: readonly { sha256: string }[]): Promise<AttestationVerification> {
    const { keyring } = await this.deps.keys.document(tenant).catch((error: unknown) => {
      throw new ServiceError('evidence.keys_unavailable', 'the key ring is unavailable; see the service log', { cause: error });
    });
    return verifyAttestation(envelope, { keyring, signedAt, ...(artifacts ? { artifacts } : {}) });
  }

  async list(tenant: string, filter: { subject_id?: string; resource_type?: string; resource_id?: string; limit: number }): Promise<AttestationRow[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenant];
    for (const col of ['subject_id', 'resource_type', 'resource_id'] as const) {
      if (filter[col] !== undefined) {
        params.push(filter[col]);
        where.push(`${col} = $${params.length}`);
      }
    }
    params.push(filter.limit);
    return this.deps.store.tenantTransaction(tenant, async (tx) =>
      (await tx.query(`SELECT * FROM attestations WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id LIMIT $${params.length}`, params)).rows.map(toRow),
    );
  }

  async row(tenant: string, id: string): Promise<AttestationRow> {
    if (!isValidSegment(id)) throw new ServiceError('evidence.id_invalid', 'attestation id is malformed', { field: 'params.id' });
    const row = await this.deps.store.tenantTransaction(tenant, async (tx) => (await tx.query('SELECT * FROM attestations WHERE tenant_id = $1 AND id = $2', [tenant, id])).rows[0]);
    if (!row) throw new ServiceError('attestation.not_found', `no attestation ${id} in this tenant`, { field: 'params.id' });
    return toRow(row);
  }

  /** Reads and re-verifies a stored attestation: signature, key validity at its time, recorded digests. */
  async read(tenant: string, id: string): Promise<AttestationRead> {
    const row = await this.row(tenant, id);
    let bytes: Buffer;
    try {
      bytes = await this.deps.objects.read(row.statement_path);
    } catch (error) {
      const failure = { code: 'file_missing' as const, message: `the stored statement is unreadable: ${(error as Error).message}`, path: row.statement_path };
      return { attestation: row, statement: undefined, verification: { ok: false, failures: [failure], signerKeyIds: [], matchedSubjects: [], signedAtSource: 'asserted' } };
    }
    const failures = [];
    if (row.envelope_digest && `sha256:${createHash('sha256').update(bytes).digest('hex')}` !== row.envelope_digest) {
      failures.push({ code: 'digest_mismatch' as const, message: 'the stored envelope differs from the one recorded', path: STATEMENT_FILE });
    }
    let envelope: DsseEnvelope;
    try {
      envelope = parseDsseEnvelope(bytes);
    } catch (error) {
      failures.push({ code: 'envelope_invalid' as const, message: (error as Error).message, path: STATEMENT_FILE });
      return { attestation: row, statement: undefined, verification: { ok: false, failures, signerKeyIds: [], matchedSubjects: [], signedAtSource: 'asserted' } };
    }
    const statement = statementOf(envelope);
    const v = await this.verifyEnvelope(tenant, envelope, new Date(row.signed_at ?? row.created_at), [{ sha256: row.subject_digest.replace(/^sha256:/, '') }]);
    const all = [...failures, ...v.failures];
    return { attestation: row, statement, verification: { ...v, ok: all.length === 0, failures: all } };
  }

  /** Verifies an envelope handed in (not stored), optionally against artifact digests. */
  async verifySubmitted(tenant: string, envelopeInput: unknown, artifacts: readonly string[] | undefined): Promise<AttestationRead['verification'] & { statement?: InTotoStatement<unknown> }> {
    let envelope: DsseEnvelope;
    try {
      envelope = parseDsseEnvelope(envelopeInput);
    } catch (error) {
      throw new ServiceError('attestation.invalid', `envelope: ${(error as Error).message}`, { field: 'body.envelope' });
    }
    const statement = statementOf(envelope);
    return this.verifyEnvelope(tenant, envelope, signedAtOf(statement, new Date(this.deps.clock())), artifacts?.map((a) => ({ sha256: a.replace(/^sha256:/, '') })));
  }
}
