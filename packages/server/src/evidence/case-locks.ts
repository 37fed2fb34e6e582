/**
 * One bundle commit per case at a time, cluster-wide (SCALE-1). On PostgreSQL a case is held by
 * a session advisory lock on a connection of its own, opened for the commit and closed after it:
 * PostgreSQL releases the lock when that connection closes, so a replica that dies mid-commit
 * (even by SIGKILL) leaves nothing held behind. On the embedded store (one process) a case is
 * held in memory.
 *
 * Snapshots hold their case while they gather and commit, so a second snapshot of the same case
 * at once — through any replica — is refused (`evidence.snapshot_in_progress`) rather than
 * making a second bundle; crash recovery settles only commits whose case nobody holds, so a
 * replica that starts never rolls back a commit another replica is making.
 */
import type { Logger } from '@stellaops/telemetry-core';
import pg from 'pg';

/** Releases a held case; never rejects. */
export type CaseRelease = () => Promise<void>;

export interface CaseLocks {
  /** Holds the case now, or answers undefined when another commit holds it. */
  tryHold(tenant: string, caseId: string): Promise<CaseRelease | undefined>;
}

/** The two-key advisory lock class of evidence cases ("STEC"); the key is a hash of tenant and case. */
export const CASE_LOCK_CLASS = 0x5354_4543;

export class LocalCaseLocks implements CaseLocks {
  private readonly held = new Set<string>();

  async tryHold(tenant: string, caseId: string): Promise<CaseRelease | undefined> {
    const key = `${tenant}/${caseId}`;
    if (this.held.has(key)) return undefined;
    this.held.add(key);
    return async () => void this.held.delete(key);
  }
}

export class PostgresCaseLocks implements CaseLocks {
  constructor(private readonly options: { url: string; logger: Logger }) {}

  async tryHold(tenant: string, caseId: string): Promise<CaseRelease | undefined> {
    const client = new pg.Client({ connectionString: this.options.url, application_name: 'stella-evidence-case', connectionTimeoutMillis: 5000 });
    // A connection that fails while held only ends the hold early; the commit protocol stays crash-safe.
    client.on('error', (error) => this.options.logger.warn({ err: error, tenant_id: tenant, details: { case_id: caseId } }, 'the connection holding an evidence case failed'));
    try {
      await client.connect();
      const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS held', [CASE_LOCK_CLASS, `${tenant}/${caseId}`]);
      if (rows[0]?.held) return () => client.end().catch(() => undefined);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end().catch(() => undefined);
    return undefined;
  }
}

export function openCaseLocks(options: { databaseUrl: string | undefined; logger: Logger }): CaseLocks {
  return options.databaseUrl ? new PostgresCaseLocks({ url: options.databaseUrl, logger: options.logger }) : new LocalCaseLocks();
}
