/**
 * The SQL store seam: PGlite embedded, PostgreSQL at scale, one dialect. Every query a
 * feature runs goes through `tenantTransaction`, which runs it as the application role with
 * `app.tenant_id` set for that transaction only, so row-level security is the tenant wall
 * whatever the query says.
 */
export interface SqlResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted (0 for SELECT on some engines). */
  affectedRows: number;
}

export interface SqlTx {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<R>>;
}

export type StoreEngine = 'pglite' | 'postgres';

export interface SqlStore {
  readonly engine: StoreEngine;
  /**
   * Runs `fn` in one transaction as the application role with `app.tenant_id = tenant`
   * (`set_config(..., true)`: transaction-local, never leaks to the next user of a pooled
   * connection). `null` runs without a tenant: tenant-scoped tables then show no rows and
   * accept no writes. Commits when `fn` resolves, rolls back when it throws.
   */
  tenantTransaction<T>(tenant: string | null, fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  /** Resolves when the database answers; rejects with `store.unavailable` otherwise. */
  ping(): Promise<void>;
  /** Closes connections (and releases the embedded data-directory lock). */
  close(): Promise<void>;
}
