/**
 * The scale-out engine: PostgreSQL through a `pg` pool. Migrations run on a separate owner
 * connection; queries run as the application role — directly when the pool logs in as it, or
 * through `SET LOCAL ROLE` when the pool logs in as another role (a superuser on a laptop).
 * The tenant is set per transaction on the one checked-out client, never per session.
 */
import pg from 'pg';
import { assertAppRoleIsSafe, loadMigrations, migrate, type MigrationSource } from './migrations.js';
import type { SqlResult, SqlStore, SqlTx } from './sql-store.js';
import { StoreError } from './store-error.js';

export interface PostgresStoreOptions {
  /** Connection URL for queries. */
  url: string;
  /** Connection URL for migrations (the schema owner). Default `url`. */
  ownerUrl?: string;
  /** Application role. Default `stella_app`. */
  appRole?: string;
  /** Pool size. Default 10. */
  poolSize?: number;
  migrations: readonly MigrationSource[];
}

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300']);

/** Connection-level failures become `store.unavailable` (503); SQL errors pass through. */
export function mapPgError(error: unknown): unknown {
  const code = (error as { code?: string } | null)?.code;
  if ((code && (UNAVAILABLE.has(code) || code.startsWith('08'))) || /Connection terminated|timeout exceeded when trying to connect/i.test(String((error as Error)?.message))) {
    return new StoreError('store.unavailable', 'the database is unreachable', { cause: error });
  }
  return error;
}

class PgTx implements SqlTx {
  constructor(private readonly client: pg.PoolClient) {}
  async query<R>(sql: string, params?: unknown[]): Promise<SqlResult<R>> {
    const res = await this.client.query(sql, params);
    return { rows: res.rows as R[], affectedRows: res.rowCount ?? 0 };
  }
}

export class PostgresStore implements SqlStore {
  readonly engine = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly beginSql: string,
  ) {}

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const appRole = options.appRole ?? 'stella_app';
    const owner = new pg.Client({ connectionString: options.ownerUrl ?? options.url });
    try {
      await owner.connect();
      const executor = {
        exec: async (sql: string) => {
          await owner.query(sql);
        },
        query: async <R>(sql: string, params?: unknown[]) => (await owner.query(sql, params)).rows as R[],
      };
      await migrate(executor, loadMigrations(options.migrations), appRole);
      await assertAppRoleIsSafe(executor, appRole);
    } catch (error) {
      throw mapPgError(error);
    } finally {
      await owner.end().catch(() => undefined);
    }
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
    // An idle client that loses its server emits 'error' on the pool; without a listener Node exits.
    pool.on('error', () => undefined);
    let beginSql = 'BEGIN';
    try {
      const { rows } = await pool.query<{ current_user: string }>('SELECT current_user');
      if (rows[0]?.current_user !== appRole) beginSql = `BEGIN; SET LOCAL ROLE "${appRole}"`;
      const store = new PostgresStore(pool, beginSql);
      // Prove now, not on the first request, that the pool can act as the application role.
      await store.tenantTransaction(null, async () => undefined);
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw mapPgError(error);
    }
  }

  async tenantTransaction<T>(tenant: string | null, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapPgError(error);
    }
    let broken: Error | undefined;
    try {
      await client.query(this.beginSql);
      if (tenant !== null) await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
      const result = await fn(new PgTx(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw mapPgError(error);
    } finally {
      // A client whose rollback failed is discarded rather than handed to the next tenant.
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (cause) {
      throw new StoreError('store.unavailable', 'the database does not answer', { cause });
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
