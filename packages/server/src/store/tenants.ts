/**
 * Tenant bootstrap, owned by the store: every table of tenant data references `tenants`, so the
 * first write of a tenant's data registers the tenant in the same transaction. Writers call
 * `ensureTenant(tx, tenant)` before their insert; nobody else writes `tenants`. The list holds
 * tenant ids only and is readable without a tenant (`listTenants`): what works across tenants
 * visits each one in a transaction of its own.
 */
import type { SqlTx } from './sql-store.js';

export async function ensureTenant(tx: SqlTx, tenant: string): Promise<void> {
  await tx.query('INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
}

/** Every tenant the store has registered, sorted (byte order); readable in a transaction without a tenant. */
export async function listTenants(tx: SqlTx): Promise<string[]> {
  return (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM tenants ORDER BY tenant_id COLLATE "C"')).rows.map((r) => r.tenant_id);
}
