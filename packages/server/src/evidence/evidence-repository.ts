/**
 * SQL of the evidence locker. Every statement runs in a tenant transaction (row-level security
 * is the wall) and still names `tenant_id` so the (tenant_id, ...) indices serve it.
 */
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { ensureTenant } from '../store/tenants.js';
import { retentionHoldCovering } from '../segments/retention-holds.js';

export interface BundleRow {
  id: string;
  tenant_id: string;
  case_id: string;
  kind: string;
  root_hash: string;
  path: string;
  signer_key_id: string | null;
  created_at: string;
  labels: Record<string, unknown>;
  resource_type: string | null;
  resource_id: string | null;
  manifest_digest: string | null;
  file_count: number | null;
  content_bytes: number | null;
  retain_until: string | null;
  timestamped: boolean;
}

export interface ArtifactRow {
  id: string;
  resource_type: string;
  resource_id: string;
  role: string;
  name: string;
  media_type: string;
  sha256: string;
  size: number;
  created_at: string;
}

export interface HoldRow {
  case_id: string;
  reason: string;
  placed_by: string | null;
  placed_at: string;
}

export interface EvidenceSettings {
  retention_days: number;
  extended_until: string | null;
  source: 'tenant' | 'default';
}

const BUNDLE_COLUMNS =
  'id, tenant_id, case_id, kind, root_hash, path, signer_key_id, created_at, labels, resource_type, resource_id, manifest_digest, file_count, content_bytes, retain_until, timestamped';

function iso(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

function toBundle(r: Record<string, unknown>): BundleRow {
  return {
    id: String(r['id']),
    tenant_id: String(r['tenant_id']),
    case_id: String(r['case_id']),
    kind: String(r['kind']),
    root_hash: String(r['root_hash']),
    path: String(r['path']),
    signer_key_id: (r['signer_key_id'] as string | null) ?? null,
    created_at: iso(r['created_at']),
    labels: (typeof r['labels'] === 'string' ? JSON.parse(r['labels']) : r['labels']) as Record<string, unknown>,
    resource_type: (r['resource_type'] as string | null) ?? null,
    resource_id: (r['resource_id'] as string | null) ?? null,
    manifest_digest: (r['manifest_digest'] as string | null) ?? null,
    file_count: r['file_count'] === null ? null : Number(r['file_count']),
    content_bytes: r['content_bytes'] === null ? null : Number(r['content_bytes']),
    retain_until: r['retain_until'] ? iso(r['retain_until']) : null,
    timestamped: Boolean(r['timestamped']),
  };
}

function toArtifact(r: Record<string, unknown>): ArtifactRow {
  return {
    id: String(r['id']),
    resource_type: String(r['resource_type']),
    resource_id: String(r['resource_id']),
    role: String(r['role']),
    name: String(r['name']),
    media_type: String(r['media_type']),
    sha256: String(r['sha256']),
    size: Number(r['size']),
    created_at: iso(r['created_at']),
  };
}

export class EvidenceRepository {
  constructor(
    readonly store: SqlStore,
    /** Evidence retention for tenants without their own setting, in days. */
    readonly defaultRetentionDays: number,
  ) {}

  tx<T>(tenant: string | null, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.store.tenantTransaction(tenant, fn);
  }

  async tenants(): Promise<string[]> {
    return this.tx(null, async (tx) => (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants ORDER BY tenant_id')).rows.map((r) => r.tenant_id));
  }

  async beginCommit(tenant: string, bundleId: string, caseId: string, path: string): Promise<void> {
    await this.tx(tenant, async (tx) => {
      await ensureTenant(tx, tenant);
      await tx.query('INSERT INTO evidence_commits (tenant_id, bundle_id, case_id, path) VALUES ($1, $2, $3, $4)', [tenant, bundleId, caseId, path]);
    });
  }

  async pendingCommits(tenant: string): Promise<{ bundle_id: string; case_id: string; path: string }[]> {
    return this.tx(tenant, async (tx) => (await tx.query<{ bundle_id: string; case_id: string; path: string }>('SELECT bundle_id, case_id, path FROM evidence_commits WHERE tenant_id = $1', [tenant])).rows);
  }

  async abandonCommit(tenant: string, bundleId: string): Promise<void> {
    await this.tx(tenant, (tx) => tx.query('DELETE FROM evidence_commits WHERE tenant_id = $1 AND bundle_id = $2', [tenant, bundleId]));
  }

  /** Records a committed bundle and closes its journal entry, in the caller's transaction (with its timeline event). */
  async recordBundle(tx: SqlTx, row: Omit<BundleRow, 'created_at'> & { created_at: string }): Promise<void> {
    await tx.query(
      `INSERT INTO evidence_bundles (tenant_id, id, case_id, kind, root_hash, path, signer_key_id, created_at, labels, resource_type, resource_id,
         manifest_digest, file_count, content_bytes, retain_until, timestamped)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16)`,
      [
        row.tenant_id, row.id, row.case_id, row.kind, row.root_hash, row.path, row.signer_key_id, row.created_at, JSON.stringify(row.labels),
        row.resource_type, row.resource_id, row.manifest_digest, row.file_count, row.content_bytes, row.retain_until, row.timestamped,
      ],
    );
    await tx.query('DELETE FROM evidence_commits WHERE tenant_id = $1 AND bundle_id = $2', [row.tenant_id, row.id]);
  }

  async getBundle(tenant: string, id: string): Promise<BundleRow | undefined> {
    return this.tx(tenant, async (tx) => {
      const { rows } = await tx.query(`SELECT ${BUNDLE_COLUMNS} FROM evidence_bundles WHERE tenant_id = $1 AND id = $2`, [tenant, id]);
      return rows[0] ? toBundle(rows[0]) : undefined;
    });
  }

  async listBundles(tenant: string, filter: { case_id?: string; resource_type?: string; resource_id?: string; limit: number }): Promise<BundleRow[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenant];
    for (const col of ['case_id', 'resource_type', 'resource_id'] as const) {
      const v = filter[col];
      if (v !== undefined) {
        params.push(v);
        where.push(`${col} = $${params.length}`);
      }
    }
    params.push(filter.limit);
    return this.tx(tenant, async (tx) =>
      (await tx.query(`SELECT ${BUNDLE_COLUMNS} FROM evidence_bundles WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id LIMIT $${params.length}`, params)).rows.map(toBundle),
    );
  }

  /**
   * Bundles created before `cutoff`, held or not, oldest first (`created_at, id`), after the
   * keyset position `after` (a page of a pass that examines every expired bundle).
   */
  async expiredBundles(tenant: string, cutoff: Date, limit: number, after?: { created_at: string; id: string }): Promise<BundleRow[]> {
    return this.tx(tenant, async (tx) =>
      (
        await tx.query(
          `SELECT ${BUNDLE_COLUMNS} FROM evidence_bundles b WHERE tenant_id = $1 AND created_at < $2
              AND (created_at, id) > ($3::timestamptz, $4::text) ORDER BY created_at, id LIMIT $5`,
          [tenant, cutoff.toISOString(), after?.created_at ?? '0001-01-01T00:00:00Z', after?.id ?? '', limit],
        )
      ).rows.map(toBundle),
    );
  }

  /** Deletes the bundle row in the caller's transaction (with its audit event); false when it was gone already. */
  async deleteBundle(tx: SqlTx, tenant: string, id: string): Promise<boolean> {
    const res = await tx.query('DELETE FROM evidence_bundles WHERE tenant_id = $1 AND id = $2', [tenant, id]);
    return res.affectedRows > 0;
  }

  // --- artifacts

  async findArtifact(tenant: string, resourceType: string, resourceId: string, role: string, name: string): Promise<ArtifactRow | undefined> {
    return this.tx(tenant, async (tx) => {
      const { rows } = await tx.query(
        'SELECT * FROM evidence_artifacts WHERE tenant_id = $1 AND resource_type = $2 AND resource_id = $3 AND role = $4 AND name = $5',
        [tenant, resourceType, resourceId, role, name],
      );
      return rows[0] ? toArtifact(rows[0]) : undefined;
    });
  }

  async insertArtifact(tenant: string, a: Omit<ArtifactRow, 'created_at'>): Promise<ArtifactRow> {
    return this.tx(tenant, async (tx) => {
      await ensureTenant(tx, tenant);
      const { rows } = await tx.query(
        `INSERT INTO evidence_artifacts (tenant_id, id, resource_type, resource_id, role, name, media_type, sha256, size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [tenant, a.id, a.resource_type, a.resource_id, a.role, a.name, a.media_type, a.sha256, a.size],
      );
      return toArtifact(rows[0]!);
    });
  }

  async artifactsFor(tenant: string, resourceType: string, resourceId: string): Promise<ArtifactRow[]> {
    return this.tx(tenant, async (tx) =>
      (
        await tx.query('SELECT * FROM evidence_artifacts WHERE tenant_id = $1 AND resource_type = $2 AND resource_id = $3 ORDER BY role, name', [
          tenant,
          resourceType,
          resourceId,
        ])
      ).rows.map(toArtifact),
    );
  }

  /**
   * Artifacts of one name attached to resources of one type in [from, to) (by attachment time),
   * oldest first; at most `limit` (federation reads the Policy Engine's findings.json with it).
   */
  async artifactsNamed(tenant: string, q: { resourceType: string; name: string; from: Date; to: Date; limit: number }): Promise<ArtifactRow[]> {
    return this.tx(tenant, async (tx) =>
      (
        await tx.query(
          `SELECT * FROM evidence_artifacts WHERE tenant_id = $1 AND resource_type = $2 AND name = $3 AND created_at >= $4 AND created_at < $5
            ORDER BY created_at, resource_id COLLATE "C", id LIMIT $6`,
          [tenant, q.resourceType, q.name, q.from.toISOString(), q.to.toISOString(), q.limit],
        )
      ).rows.map(toArtifact),
    );
  }

  // --- timeline inputs and decision records

  async insertDecisions(tenant: string, records: readonly { id: string; ts: string; kind: string; trace_id: string | null; resource: string | null; record: unknown }[]): Promise<void> {
    if (records.length === 0) return;
    await this.tx(tenant, async (tx) => {
      for (const r of records) {
        await tx.query(
          'INSERT INTO evidence_decisions (tenant_id, id, ts, kind, trace_id, resource, record) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT DO NOTHING',
          [tenant, r.id, r.ts, r.kind, r.trace_id, r.resource, JSON.stringify(r.record)],
        );
      }
    });
  }

  async decisionsFor(tenant: string, traceIds: readonly string[], resource: string, limit: number): Promise<Record<string, unknown>[]> {
    return this.tx(tenant, async (tx) =>
      (
        await tx.query<{ record: unknown }>(
          `SELECT record FROM evidence_decisions WHERE tenant_id = $1 AND (trace_id = ANY($2::text[]) OR resource = $3) ORDER BY ts, id LIMIT $4`,
          [tenant, [...traceIds], resource, limit],
        )
      ).rows.map((r) => (typeof r.record === 'string' ? JSON.parse(r.record) : r.record) as Record<string, unknown>),
    );
  }

  /**
   * The incident-mode retention hold (telemetry_retention_holds, INC-2) covering `at`, if any:
   * evidence made during an incident is kept as long as the telemetry of that window.
   */
  async incidentHoldCovering(tenant: string, at: Date): Promise<{ hold_id: string; reason: string } | undefined> {
    return this.tx(tenant, (tx) => retentionHoldCovering(tx, tenant, at.getTime()));
  }

  // --- holds

  async activeHold(tenant: string, caseId: string, tx?: SqlTx): Promise<HoldRow | undefined> {
    const run = async (t: SqlTx): Promise<HoldRow | undefined> => {
      const { rows } = await t.query<Record<string, unknown>>('SELECT case_id, reason, placed_by, placed_at FROM evidence_holds WHERE tenant_id = $1 AND case_id = $2', [tenant, caseId]);
      const r = rows[0];
      return r ? { case_id: String(r['case_id']), reason: String(r['reason']), placed_by: (r['placed_by'] as string | null) ?? null, placed_at: iso(r['placed_at']) } : undefined;
    };
    return tx ? run(tx) : this.tx(tenant, run);
  }

  /** Places (or, with `hold` null, releases) the hold in the caller's transaction (with its audit event). Returns the state before. */
  async setHold(tx: SqlTx, tenant: string, caseId: string, hold: { reason: string; by: string } | null): Promise<HoldRow | undefined> {
    const previous = await this.activeHold(tenant, caseId, tx);
    if (hold) {
      await tx.query(
        `INSERT INTO evidence_holds (tenant_id, case_id, reason, placed_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, case_id) DO UPDATE SET reason = EXCLUDED.reason, placed_by = EXCLUDED.placed_by, placed_at = now()`,
        [tenant, caseId, hold.reason, hold.by],
      );
    } else {
      await tx.query('DELETE FROM evidence_holds WHERE tenant_id = $1 AND case_id = $2', [tenant, caseId]);
    }
    return previous;
  }

  // --- retention settings

  async settings(tenant: string): Promise<EvidenceSettings> {
    return this.tx(tenant, async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>('SELECT retention_days, extended_until FROM evidence_settings WHERE tenant_id = $1', [tenant]);
      const r = rows[0];
      return r
        ? { retention_days: Number(r['retention_days']), extended_until: r['extended_until'] ? iso(r['extended_until']) : null, source: 'tenant' }
        : { retention_days: this.defaultRetentionDays, extended_until: null, source: 'default' };
    });
  }

  /** Changes the tenant's settings in the caller's transaction (with its audit event); returns the settings before and after. */
  async updateSettings(
    tx: SqlTx,
    tenant: string,
    change: { retention_days?: number; extended_until?: string | null },
    by: string,
  ): Promise<{ before: EvidenceSettings; after: EvidenceSettings }> {
    {
      const { rows } = await tx.query<Record<string, unknown>>('SELECT retention_days, extended_until FROM evidence_settings WHERE tenant_id = $1', [tenant]);
      const current = rows[0];
      const days = change.retention_days ?? (current ? Number(current['retention_days']) : this.defaultRetentionDays);
      const until = change.extended_until !== undefined ? change.extended_until : current?.['extended_until'] ? iso(current['extended_until']) : null;
      await tx.query(
        `INSERT INTO evidence_settings (tenant_id, retention_days, extended_until, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id) DO UPDATE SET retention_days = EXCLUDED.retention_days, extended_until = EXCLUDED.extended_until, updated_at = now(), updated_by = EXCLUDED.updated_by`,
        [tenant, days, until, by],
      );
      const before: EvidenceSettings = current
        ? { retention_days: Number(current['retention_days']), extended_until: current['extended_until'] ? iso(current['extended_until']) : null, source: 'tenant' }
        : { retention_days: this.defaultRetentionDays, extended_until: null, source: 'default' };
      return { before, after: { retention_days: days, extended_until: until, source: 'tenant' as const } };
    }
  }
}
