/**
 * STO-5: the per-tenant quarantine. A record that was acknowledged but that its destination
 * (the telemetry index, the timeline table) refuses is moved here with the store's reason,
 * counted, and the line moves on: one record never blocks the records behind it or another
 * tenant. Entries are inspectable (`list`) and replayable by the feature that owns the flow.
 */
import { uuidv7, type Logger } from '@stellaops/telemetry-core';
import type { CounterPoint } from '../self/service-metrics.js';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { storableText } from '../store/storable-text.js';
import { ensureTenant } from '../store/tenants.js';

/** `release`: the Release Orchestrator's deployment and incident messages (DORA-1). */
export type QuarantineSignal = 'traces' | 'logs' | 'metrics' | 'timeline' | 'release';

export interface QuarantineEntry {
  signal: QuarantineSignal;
  /** Stable code: `index.rejected`, `timeline.store_rejected`, ... */
  reason: string;
  /** The store's message, for a person. */
  error: string;
  /** Where the record is kept: `segment:<signal>/<segment name>@<offset>` (segment-path.ts) or `bus:<subject>#<msg id>`. */
  source: string;
  /** The record as received, when no segment keeps it. */
  payload?: Uint8Array;
}

export interface QuarantinedRecord {
  quarantine_id: string;
  signal: QuarantineSignal;
  reason: string;
  error: string;
  source: string;
  payload: Buffer | null;
  quarantined_at: string;
  replayed_at: string | null;
}

/** Longest error text kept (the store's messages can quote the whole value). */
const MAX_ERROR_CHARS = 2000;

export class Quarantine {
  /** Entries per `signal/tenant/reason` since start (the counter's value, readable in-process). */
  readonly counts = new Map<string, number>();

  constructor(
    private readonly store: SqlStore,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    /** `stella_ingest_quarantined_total{signal,tenant,reason}`. Default: counted in `counts` only. */
    private readonly counter?: CounterPoint,
  ) {}

  /** Stores entries for one tenant in one transaction. */
  async add(tenant: string, entries: readonly QuarantineEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.store.tenantTransaction(tenant, (tx) => this.addIn(tx, tenant, entries));
  }

  /** Stores entries inside a transaction the caller already holds for `tenant`. */
  async addIn(tx: SqlTx, tenant: string, entries: readonly QuarantineEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.clock();
    const ids = entries.map(() => uuidv7(now));
    await ensureTenant(tx, tenant);
    await tx.query(
      `INSERT INTO ingest_quarantine (tenant_id, quarantine_id, signal, reason, error, source, payload)
       SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[])`,
      [
        tenant,
        ids,
        entries.map((e) => e.signal),
        entries.map((e) => storableText(e.reason.slice(0, 200))),
        entries.map((e) => storableText(e.error.slice(0, MAX_ERROR_CHARS))),
        entries.map((e) => storableText(e.source.slice(0, 1000))),
        entries.map((e) => (e.payload ? Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength) : null)),
      ],
    );
    for (const e of entries) this.count(tenant, e.signal, e.reason);
    this.logger.warn(
      { tenant_id: tenant, error_code: entries[0]!.reason, details: { quarantined: entries.length, signal: entries[0]!.signal, first_error: entries[0]!.error.slice(0, 300) } },
      'records quarantined: they were acknowledged but their destination refused them',
    );
  }

  /** Counts a quarantined record (also for records the caller could not write here). */
  count(tenant: string, signal: QuarantineSignal, reason: string): void {
    this.counter?.add(1, { signal, tenant, reason });
    const key = `${signal}/${tenant}/${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** The tenant's quarantined records, newest first. */
  async list(tenant: string, options: { signal?: QuarantineSignal; limit?: number; includeReplayed?: boolean } = {}): Promise<QuarantinedRecord[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenant];
    if (options.signal) {
      params.push(options.signal);
      where.push(`signal = $${params.length}`);
    }
    if (!options.includeReplayed) where.push('replayed_at IS NULL');
    params.push(Math.min(Math.max(options.limit ?? 100, 1), 1000));
    return this.store.tenantTransaction(tenant, async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(
        `SELECT quarantine_id, signal, reason, error, source, payload, quarantined_at, replayed_at FROM ingest_quarantine
          WHERE ${where.join(' AND ')} ORDER BY quarantined_at DESC, quarantine_id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => ({
        quarantine_id: String(r['quarantine_id']),
        signal: r['signal'] as QuarantineSignal,
        reason: String(r['reason']),
        error: String(r['error']),
        source: String(r['source']),
        payload: r['payload'] ? Buffer.from(r['payload'] as Uint8Array) : null,
        quarantined_at: new Date(r['quarantined_at'] as string).toISOString(),
        replayed_at: r['replayed_at'] ? new Date(r['replayed_at'] as string).toISOString() : null,
      }));
    });
  }

  /** Marks entries as replayed (their record is now stored where it belongs). */
  async markReplayed(tenant: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.store.tenantTransaction(tenant, async (tx) => {
      const res = await tx.query('UPDATE ingest_quarantine SET replayed_at = now() WHERE tenant_id = $1 AND quarantine_id = ANY($2::uuid[]) AND replayed_at IS NULL', [tenant, ids]);
      return res.affectedRows;
    });
  }
}
