/**
 * Tenant bootstrap, owned by the store: every table of tenant data references `tenants`, so the
 * first write of a tenant's data registers the tenant in the same transaction. Writers call
 * `ensureTenant(tx, tenant)` before their insert; nobody else writes `tenants`.
 */
import type { SqlTx } from './sql-store.js';

export async function ensureTenant(tx: SqlTx, tenant: string): Promise<void> {
  await tx.query('INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
}
