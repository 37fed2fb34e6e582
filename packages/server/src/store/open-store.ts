/** Picks the engine from configuration: a database URL selects PostgreSQL, none the embedded PGlite. */
import type { MigrationSource } from './migrations.js';
import { PgliteStore } from './pglite-store.js';
import { PostgresStore } from './postgres-store.js';
import type { SqlStore } from './sql-store.js';

export interface OpenStoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  databaseOwnerUrl?: string | undefined;
  appRole: string;
  poolSize?: number;
  migrations: readonly MigrationSource[];
}

export async function openStore(options: OpenStoreOptions): Promise<SqlStore> {
  if (options.databaseUrl) {
    return PostgresStore.open({
      url: options.databaseUrl,
      ownerUrl: options.databaseOwnerUrl,
      appRole: options.appRole,
      poolSize: options.poolSize,
      migrations: options.migrations,
    });
  }
  return PgliteStore.open({ dataDir: options.dataDir, appRole: options.appRole, migrations: options.migrations });
}
