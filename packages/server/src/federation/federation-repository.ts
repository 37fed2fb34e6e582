/** The one owner of `federation_consents` and `federation_bundles`: every read and write, in the tenant's transaction. */
import type { FederationEnvelope } from '@stellaops/forensics';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { ensureTenant } from '../store/tenants.js';

export interface ConsentRow {
  consent_id: string;
  tenant_id: string;
  granted_by: string;
  granted_at: string;
  expires_at: string;
  purpose: string;
  digest: string;
  signer_key_id: string | null;
  envelope: FederationEnvelope;
  created_at: string;
}

export interface BundleRow {
  bundle_id: string;
  consent_id: string;
  consent_digest: string;
  created_at: string;
  window_from: string;
  window_to: string;
  min_artifacts: number;
  buckets: number;
  suppressed: number;
  digest: string;
  signer_key_id: string | null;
  envelope: FederationEnvelope;
  recorded_at: string;
}

const iso = (v: unknown): string => new Date(v as string).toISOString();

function toConsent(r: Record<string, unknown>): ConsentRow {
  return {
    consent_id: String(r['consent_id']),
    tenant_id: String(r['tenant_id']),
    granted_by: String(r['granted_by']),
    granted_at: iso(r['granted_at']),
    expires_at: iso(r['expires_at']),
    purpose: String(r['purpose']),
    digest: String(r['digest']),
    signer_key_id: r['signer_key_id'] === null ? null : String(r['signer_key_id']),
    envelope: JSON.parse(String(r['envelope'])) as FederationEnvelope,
    created_at: iso(r['created_at']),
  };
}

function toBundle(r: Record<string, unknown>): BundleRow {
  return {
    bundle_id: String(r['bundle_id']),
    consent_id: String(r['consent_id']),
    consent_digest: String(r['consent_digest']),
    created_at: iso(r['created_at']),
    window_from: iso(r['window_from']),
    window_to: iso(r['window_to']),
    min_artifacts: Number(r['min_artifacts']),
    buckets: Number(r['buckets']),
    suppressed: Number(r['suppressed']),
    digest: String(r['digest']),
    signer_key_id: r['signer_key_id'] === null ? null : String(r['signer_key_id']),
    envelope: JSON.parse(String(r['envelope'])) as FederationEnvelope,
    recorded_at: iso(r['recorded_at']),
  };
}

export class FederationRepository {
  constructor(private readonly store: SqlStore) {}

  /** Inserts a consent inside the caller's (audited) transaction; answers the row stored under its id (the existing one when it was there). */
  async insertConsent(tx: SqlTx, tenant: string, c: Omit<ConsentRow, 'created_at' | 'envelope'> & { envelope: string }): Promise<{ created: boolean; row: ConsentRow }> {
    await ensureTenant(tx, tenant);
    const inserted = await tx.query(
      `INSERT INTO federation_consents (tenant_id, consent_id, granted_by, granted_at, expires_at, purpose, digest, signer_key_id, envelope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, consent_id) DO NOTHING RETURNING *`,
      [tenant, c.consent_id, c.granted_by, c.granted_at, c.expires_at, c.purpose, c.digest, c.signer_key_id, c.envelope],
    );
    if (inserted.rows[0]) return { created: true, row: toConsent(inserted.rows[0]) };
    const { rows } = await tx.query('SELECT * FROM federation_consents WHERE tenant_id = $1 AND consent_id = $2', [tenant, c.consent_id]);
    return { created: false, row: toConsent(rows[0]!) };
  }

  async consent(tenant: string, consentId: string): Promise<ConsentRow | undefined> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      const { rows } = await tx.query('SELECT * FROM federation_consents WHERE tenant_id = $1 AND consent_id = $2', [tenant, consentId]);
      return rows[0] ? toConsent(rows[0]) : undefined;
    });
  }

  async consents(tenant: string, limit: number): Promise<ConsentRow[]> {
    return this.store.tenantTransaction(tenant, async (tx) =>
      (await tx.query('SELECT * FROM federation_consents WHERE tenant_id = $1 ORDER BY created_at DESC, consent_id COLLATE "C" LIMIT $2', [tenant, limit])).rows.map(toConsent),
    );
  }

  /** Inserts a bundle inside the caller's (audited) transaction; a bundle of the same id (the same content) is kept as it was. */
  async insertBundle(tx: SqlTx, tenant: string, b: Omit<BundleRow, 'recorded_at' | 'envelope'> & { envelope: string }): Promise<{ created: boolean; row: BundleRow }> {
    await ensureTenant(tx, tenant);
    const inserted = await tx.query(
      `INSERT INTO federation_bundles (tenant_id, bundle_id, consent_id, consent_digest, created_at, window_from, window_to, min_artifacts, buckets, suppressed, digest, signer_key_id, envelope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (tenant_id, bundle_id) DO NOTHING RETURNING *`,
      [tenant, b.bundle_id, b.consent_id, b.consent_digest, b.created_at, b.window_from, b.window_to, b.min_artifacts, b.buckets, b.suppressed, b.digest, b.signer_key_id, b.envelope],
    );
    if (inserted.rows[0]) return { created: true, row: toBundle(inserted.rows[0]) };
    const { rows } = await tx.query('SELECT * FROM federation_bundles WHERE tenant_id = $1 AND bundle_id = $2', [tenant, b.bundle_id]);
    return { created: false, row: toBundle(rows[0]!) };
  }

  async bundle(tenant: string, bundleId: string): Promise<BundleRow | undefined> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      const { rows } = await tx.query('SELECT * FROM federation_bundles WHERE tenant_id = $1 AND bundle_id = $2', [tenant, bundleId]);
      return rows[0] ? toBundle(rows[0]) : undefined;
    });
  }

  async bundles(tenant: string, q: { consentId?: string | undefined; limit: number }): Promise<BundleRow[]> {
    const params: unknown[] = [tenant];
    let where = 'tenant_id = $1';
    if (q.consentId !== undefined) {
      params.push(q.consentId);
      where += ` AND consent_id = $${params.length}`;
    }
    params.push(q.limit);
    return this.store.tenantTransaction(tenant, async (tx) =>
      (await tx.query(`SELECT * FROM federation_bundles WHERE ${where} ORDER BY recorded_at DESC, bundle_id COLLATE "C" LIMIT $${params.length}`, params)).rows.map(toBundle),
    );
  }
}
