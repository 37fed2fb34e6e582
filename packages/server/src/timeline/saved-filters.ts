/**
 * Saved `GET /timeline` filters (`timeline_saved_filters`), per tenant and user: each user (the
 * token's subject) lists, saves and deletes only their own, by name. The routes check a filter's
 * values with the rules of `GET /timeline` before they get here; this file holds their SQL, run
 * in the tenant's transaction like every timeline statement.
 */
import { ServiceError } from '../errors.js';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { ensureTenant } from '../store/tenants.js';
import { isoTimestamp } from './timeline-row.js';

/** Most filters one user may keep in one tenant. */
export const MAX_SAVED_FILTERS = 100;

export interface SavedFilter {
  name: string;
  /** The filter's `GET /timeline` parameters, as saved. */
  query: Record<string, string>;
  created_at: string;
  updated_at: string;
}

interface FilterRow {
  name: string;
  query: Record<string, string> | string;
  created_at: Date | string;
  updated_at: Date | string;
}

function toFilter(row: FilterRow): SavedFilter {
  return {
    name: row.name,
    query: (typeof row.query === 'string' ? JSON.parse(row.query) : row.query) as Record<string, string>,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

// Arbitrary, fixed: the first key of the transaction lock that serialises one user's saves
// (two-key advisory locks are a space of their own, apart from the migrator's one-key lock).
const SAVE_LOCK_CLASS = 20_250;

export class SavedFilters {
  constructor(private readonly store: SqlStore) {}

  /** The user's filters in the tenant, by name (byte order). */
  async list(tenant: string, subject: string): Promise<SavedFilter[]> {
    return this.store.tenantTransaction(tenant, async (tx) =>
      (
        await tx.query<FilterRow>(
          `SELECT name, query, created_at, updated_at FROM timeline_saved_filters WHERE tenant_id = $1 AND subject = $2 ORDER BY name COLLATE "C"`,
          [tenant, subject],
        )
      ).rows.map(toFilter),
    );
  }

  /**
   * Saves the filter under `name`, replacing the user's filter of that name (`created: false`)
   * or adding one (`created: true`) — unless the user already keeps MAX_SAVED_FILTERS in the
   * tenant: 409 `timeline.filter_limit`. One user's saves take a transaction lock, so two at
   * once cannot both add the hundred-and-first.
   */
  async put(tenant: string, subject: string, name: string, query: Record<string, string>, at: Date): Promise<{ filter: SavedFilter; created: boolean }> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2))', [SAVE_LOCK_CLASS, `${tenant}\n${subject}`]);
      const replaced = await tx.query<FilterRow>(
        `UPDATE timeline_saved_filters SET query = $4::jsonb, updated_at = $5 WHERE tenant_id = $1 AND subject = $2 AND name = $3
         RETURNING name, query, created_at, updated_at`,
        [tenant, subject, name, JSON.stringify(query), at.toISOString()],
      );
      if (replaced.rows[0]) return { filter: toFilter(replaced.rows[0]), created: false };
      const kept = await count(tx, tenant, subject);
      if (kept >= MAX_SAVED_FILTERS) {
        throw new ServiceError('timeline.filter_limit', `you keep ${kept} saved filters in this tenant, the most allowed; delete one or replace one by saving under its name`, {
          field: 'params.name',
          extra: { allowed: { max_filters: MAX_SAVED_FILTERS } },
        });
      }
      await ensureTenant(tx, tenant);
      const inserted = await tx.query<FilterRow>(
        `INSERT INTO timeline_saved_filters (tenant_id, subject, name, query, created_at, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, $5)
         RETURNING name, query, created_at, updated_at`,
        [tenant, subject, name, JSON.stringify(query), at.toISOString()],
      );
      return { filter: toFilter(inserted.rows[0]!), created: true };
    });
  }

  /** Deletes the user's filter; false when they have none of that name. */
  async delete(tenant: string, subject: string, name: string): Promise<boolean> {
    return this.store.tenantTransaction(tenant, async (tx) => {
      const res = await tx.query('DELETE FROM timeline_saved_filters WHERE tenant_id = $1 AND subject = $2 AND name = $3', [tenant, subject, name]);
      return res.affectedRows > 0;
    });
  }
}

async function count(tx: SqlTx, tenant: string, subject: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_saved_filters WHERE tenant_id = $1 AND subject = $2', [tenant, subject]);
  return Number(rows[0]?.n ?? 0);
}
