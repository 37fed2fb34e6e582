/**
 * Schema migrations, shared by both engines. The core set lives in `store/migrations/`; a
 * feature that needs tables adds a `MigrationSource` (its own folder of `NNNN_name.sql`) to
 * its `ServiceFeature`. Files are applied once, in source order then file order, each in its
 * own transaction, and are immutable: a changed checksum stops the service.
 *
 * SQL may use `{{app_role}}` (quoted identifier) and `{{app_role_literal}}` (string literal).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StoreError } from './store-error.js';

export interface MigrationSource {
  /** Unique name, e.g. `core`, `evidence`. Recorded with each file applied. */
  name: string;
  /** Folder holding `NNNN_name.sql` files. */
  dir: URL | string;
}

export interface Migration {
  id: string;
  sql: string;
  checksum: string;
}

/** The owner-side connection the migrator uses (superuser or schema owner). */
export interface MigrationExecutor {
  exec(sql: string): Promise<void>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export const CORE_MIGRATIONS: MigrationSource = { name: 'core', dir: new URL('./migrations/', import.meta.url) };

export function loadMigrations(sources: readonly MigrationSource[]): Migration[] {
  const seen = new Set<string>();
  const out: Migration[] = [];
  for (const source of sources) {
    if (seen.has(source.name)) throw new StoreError('store.migration_failed', `two migration sources are named "${source.name}"`);
    seen.add(source.name);
    const dir = typeof source.dir === 'string' ? source.dir : fileURLToPath(source.dir);
    const files = readdirSync(dir)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort();
    for (const file of files) {
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      out.push({ id: `${source.name}/${file}`, sql, checksum: createHash('sha256').update(sql).digest('hex') });
    }
  }
  return out;
}

function render(sql: string, appRole: string): string {
  return sql.replaceAll('{{app_role_literal}}', `'${appRole}'`).replaceAll('{{app_role}}', `"${appRole}"`);
}

// Arbitrary, fixed: serialises migrators of several replicas starting at once.
const MIGRATION_LOCK_KEY = 7_261_531_042;

/** Applies pending migrations; returns the ids applied now. */
export async function migrate(db: MigrationExecutor, migrations: readonly Migration[], appRole: string): Promise<string[]> {
  // The lock first: `CREATE TABLE IF NOT EXISTS` run by two replicas at once can still collide.
  await db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await db.exec(`CREATE TABLE IF NOT EXISTS stella_schema_migrations (
      id text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Map((await db.query<{ id: string; checksum: string }>('SELECT id, checksum FROM stella_schema_migrations')).map((r) => [r.id, r.checksum]));
    const done: string[] = [];
    for (const m of migrations) {
      const previous = applied.get(m.id);
      if (previous !== undefined) {
        if (previous !== m.checksum) {
          throw new StoreError('store.migration_changed', `migration ${m.id} changed after it was applied; add a new migration instead of editing an applied one`);
        }
        continue;
      }
      try {
        await db.exec(`BEGIN;\n${render(m.sql, appRole)}\n;INSERT INTO stella_schema_migrations (id, checksum) VALUES ('${m.id}', '${m.checksum}');\nCOMMIT;`);
      } catch (cause) {
        await db.exec('ROLLBACK').catch(() => undefined);
        throw new StoreError('store.migration_failed', `migration ${m.id} failed: ${(cause as Error).message}`, { cause });
      }
      done.push(m.id);
    }
    return done;
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

/** Refuses an application role that would bypass row-level security. */
export async function assertAppRoleIsSafe(db: MigrationExecutor, appRole: string): Promise<void> {
  const rows = await db.query<{ rolsuper: boolean; rolbypassrls: boolean }>('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1', [appRole]);
  const role = rows[0];
  if (!role) throw new StoreError('store.migration_failed', `the application role "${appRole}" does not exist after migrations`);
  if (role.rolsuper || role.rolbypassrls) {
    throw new StoreError('store.role_bypasses_rls', `the application role "${appRole}" is SUPERUSER or BYPASSRLS; row-level security would not apply — use a NOSUPERUSER NOBYPASSRLS role`);
  }
}
