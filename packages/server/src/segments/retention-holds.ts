/**
 * Retention holds on the telemetry store (`telemetry_retention_holds`, INC-2): windows of a
 * tenant's telemetry that retention keeps whatever their age — placed by incident mode, read
 * by every retention pass (telemetry, timeline, evidence) and by the evidence locker. The
 * telemetry store owns the table; everyone else goes through these functions, inside their own
 * transaction.
 */
import type { SqlTx } from '../store/sql-store.js';

export interface RetentionHold {
  hold_id: string;
  from_ms: number;
  to_ms: number;
  reason: string;
}

/** Holds `[fromMs, toMs]` of the tenant's telemetry under `holdId`. */
export async function placeRetentionHold(tx: SqlTx, tenant: string, hold: RetentionHold): Promise<void> {
  await tx.query('INSERT INTO telemetry_retention_holds (tenant_id, hold_id, from_ms, to_ms, reason) VALUES ($1, $2, $3, $4, $5)', [
    tenant,
    hold.hold_id,
    hold.from_ms,
    hold.to_ms,
    hold.reason.slice(0, 500),
  ]);
}

/** Moves the end of a hold: `extend` only ever lengthens it, otherwise it is set (a shortened incident). */
export async function setRetentionHoldEnd(tx: SqlTx, tenant: string, holdId: string, toMs: number, how: 'extend' | 'set'): Promise<void> {
  await tx.query(
    how === 'extend'
      ? 'UPDATE telemetry_retention_holds SET to_ms = GREATEST(to_ms, $3) WHERE tenant_id = $1 AND hold_id = $2'
      : 'UPDATE telemetry_retention_holds SET to_ms = $3 WHERE tenant_id = $1 AND hold_id = $2',
    [tenant, holdId, toMs],
  );
}

/** Every hold of the tenant, oldest window first. */
export async function retentionHolds(tx: SqlTx, tenant: string): Promise<RetentionHold[]> {
  const { rows } = await tx.query<{ hold_id: string; from_ms: string; to_ms: string; reason: string }>(
    'SELECT hold_id, from_ms, to_ms, reason FROM telemetry_retention_holds WHERE tenant_id = $1 ORDER BY from_ms, hold_id',
    [tenant],
  );
  return rows.map((r) => ({ hold_id: r.hold_id, from_ms: Number(r.from_ms), to_ms: Number(r.to_ms), reason: r.reason }));
}

/** The first hold whose window covers `atMs`, if any. */
export async function retentionHoldCovering(tx: SqlTx, tenant: string, atMs: number): Promise<Pick<RetentionHold, 'hold_id' | 'reason'> | undefined> {
  const { rows } = await tx.query<{ hold_id: string; reason: string }>(
    'SELECT hold_id, reason FROM telemetry_retention_holds WHERE tenant_id = $1 AND from_ms <= $2 AND to_ms >= $2 ORDER BY hold_id LIMIT 1',
    [tenant, atMs],
  );
  return rows[0];
}
