/**
 * The embedded engine: PGlite (PostgreSQL compiled to WebAssembly) in `<dataDir>/db`.
 * PGlite always connects as a superuser, and superusers bypass row-level security, so every
 * transaction switches to the application role with `SET LOCAL ROLE` before anything else.
 * PGlite runs queries on the calling thread: callers batch writes and keep queries indexed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { assertAppRoleIsSafe, loadMigrations, migrate, type MigrationSource } from './migrations.js';
import type { SqlResult, SqlStore, SqlTx } from './sql-store.js';
import { StoreError } from './store-error.js';

export interface PgliteStoreOptions {
  /** Data directory; the database lives in `<dataDir>/db`, the lock in `<dataDir>/db.lock`. */
  dataDir: string;
  /** Application role. Default `stella_app`. */
  appRole?: string;
  /** Migration sources, core first. */
  migrations: readonly MigrationSource[];
}

class PgliteTx implements SqlTx {
  constructor(private readonly tx: Transaction) {}
  async query<R>(sql: string, params?: unknown[]): Promise<SqlResult<R>> {
    const res = await this.tx.query<R>(sql, params);
    return { rows: res.rows, affectedRows: res.affectedRows ?? 0 };
  }
}

export class PgliteStore implements SqlStore {
  readonly engine = 'pglite' as const;

  private constructor(
    private readonly db: PGlite,
    private readonly lock: DataDirLock,
    private readonly roleSql: string,
  ) {}

  static async open(options: PgliteStoreOptions): Promise<PgliteStore> {
    mkdirSync(options.dataDir, { recursive: true });
    const lock = acquireDataDirLock(join(options.dataDir, 'db.lock'));
    const appRole = options.appRole ?? 'stella_app';
    let db: PGlite | undefined;
    try {
      db = await PGlite.create(join(options.dataDir, 'db'));
      const owner = db;
      const executor = {
        exec: async (sql: string) => {
          await owner.exec(sql);
        },
        query: async <R>(sql: string, params?: unknown[]) => (await owner.query<R>(sql, params)).rows,
      };
      await migrate(executor, loadMigrations(options.migrations), appRole);
      await assertAppRoleIsSafe(executor, appRole);
      return new PgliteStore(db, lock, `SET LOCAL ROLE "${appRole}"`);
    } catch (error) {
      await db?.close().catch(() => undefined);
      lock.release();
      throw error;
    }
  }

  async tenantTransaction<T>(tenant: string | null, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.exec(this.roleSql);
      if (tenant !== null) await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
      return fn(new PgliteTx(tx));
    });
  }

  async ping(): Promise<void> {
    try {
      await this.db.query('SELECT 1');
    } catch (cause) {
      throw new StoreError('store.unavailable', 'the embedded database does not answer', { cause });
    }
  }

  async close(): Promise<void> {
    try {
      if (!this.db.closed) await this.db.close();
    } finally {
      this.lock.release();
    }
  }
}
