/**
 * Auditing what pruning refused to delete (EVI-5, AUTH-4) without one event per row and
 * without repeating itself every hour: each pass of a job remembers, per tenant and target, the
 * cut-off it used (`retention_passes`). Data that came due since the previous pass — older than
 * this pass's cut-off but not older than the previous one, or stored since the previous pass —
 * and was kept is what this pass refused. When any of it was kept by a hold (legal hold,
 * incident window or extension, object lock), one `audit.retention.deletion_refused` event
 * says how much was kept, why (every reason, the floors included), under which holds, and the
 * totals still kept. The event and the new mark commit together.
 */
import type { TimelineEvent } from '@stellaops/telemetry-core';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import { HOLD_REASONS, KEEP_REASON_TEXT, type KeepReason } from './policy.js';

export const RETENTION_ACTOR = 'stella-observability/retention';
export const REFUSAL_EVENT_KIND = 'audit.retention.deletion_refused';

/** What a pass mark is kept for: the timeline, evidence, or one telemetry signal. */
export type RetentionTarget = 'timeline' | 'evidence' | 'traces' | 'logs' | 'metrics';
/** What a summary event is about (`resource_id`): one telemetry event covers every signal. */
export type RefusalScope = 'timeline' | 'evidence' | 'telemetry';

export interface PassMark {
  /** The cut-off of the previous pass (undefined: none yet). */
  lastCutoff: Date | undefined;
  /** When the previous pass ran, by the database's clock (what `ingested_at` is compared with). */
  lastRunAt: Date | undefined;
  /** What the previous pass found kept past its cut-off, by reason. */
  lastKept: Partial<Record<KeepReason, number>>;
}

const iso = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

export async function readPassMark(tx: SqlTx, tenant: string, target: RetentionTarget): Promise<PassMark> {
  const { rows } = await tx.query<{ last_cutoff: unknown; last_run_at: unknown; last_kept: unknown }>(
    'SELECT last_cutoff, last_run_at, last_kept FROM retention_passes WHERE tenant_id = $1 AND target = $2',
    [tenant, target],
  );
  const r = rows[0];
  if (!r) return { lastCutoff: undefined, lastRunAt: undefined, lastKept: {} };
  const kept = (typeof r.last_kept === 'string' ? JSON.parse(r.last_kept) : r.last_kept) as Partial<Record<KeepReason, number>> | null;
  return { lastCutoff: iso(r.last_cutoff), lastRunAt: iso(r.last_run_at), lastKept: kept ?? {} };
}

export function passMark(store: SqlStore, tenant: string, target: RetentionTarget): Promise<PassMark> {
  return store.tenantTransaction(tenant, (tx) => readPassMark(tx, tenant, target));
}

export interface RefusalSummary {
  /** What this pass would have deleted by age but kept, by reason (only data newly due). */
  refused: Partial<Record<KeepReason, number>>;
  /** Everything past the cut-off still kept, by reason. */
  stillKept: Partial<Record<KeepReason, number>>;
  deleted: number;
  cutoff: Date;
  /** Extra target-specific details (retention settings, the holds involved, per-signal counts). */
  details: Record<string, unknown>;
}

function total(counts: Partial<Record<KeepReason, number>>): number {
  return Object.values(counts).reduce((n, v) => n + (v ?? 0), 0);
}

function nonZero(counts: Partial<Record<KeepReason, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, v]) => (v ?? 0) > 0)) as Record<string, number>;
}

/**
 * Records the pass (its cut-off and time) and, when it refused anything newly due, its
 * summary event — in one transaction — then publishes the event. Returns the event, if any.
 */
export async function finishPass(
  audit: AuditTrail,
  pass: {
    tenant: string;
    scope: RefusalScope;
    /** The previous pass's mark the summary counts from. */
    previous: PassMark;
    /** The new mark of each target this pass covered. */
    marks: { target: RetentionTarget; cutoff: Date }[];
    summary: RefusalSummary;
    /**
     * Whether to move the marks when nothing is audited. Default true. A job that runs every
     * minute passes false: a mark only needs to move past what an event reported.
     */
    markWhenQuiet?: boolean;
  },
): Promise<TimelineEvent | undefined> {
  const { tenant, scope, summary } = pass;
  const refusedTotal = total(summary.refused);
  const byHold = HOLD_REASONS.reduce((n, r) => n + (summary.refused[r] ?? 0), 0);
  const heldNow = HOLD_REASONS.reduce((n, r) => n + (summary.stillKept[r] ?? 0), 0);
  // A hold that now keeps what another kept before (or a release while others still keep data) is news too.
  const holdsChanged = HOLD_REASONS.some((r) => (summary.stillKept[r] ?? 0) !== (pass.previous.lastKept[r] ?? 0));
  const newsworthy = byHold > 0 || (holdsChanged && heldNow > 0);
  if (!newsworthy && pass.markWhenQuiet === false) return undefined;
  return audit.record(tenant, async (tx, record) => {
    const event = newsworthy
      ? await record({
          kind: REFUSAL_EVENT_KIND,
          actor: RETENTION_ACTOR,
          resource_type: 'retention',
          resource_id: scope,
          details: {
            target: scope,
            cutoff: summary.cutoff.toISOString(),
            since: pass.previous.lastCutoff ? pass.previous.lastCutoff.toISOString() : null,
            deleted: summary.deleted,
            refused: refusedTotal,
            refused_by_reason: nonZero(summary.refused),
            still_kept: total(summary.stillKept),
            still_kept_by_reason: nonZero(summary.stillKept),
            reasons: Object.fromEntries(Object.keys(nonZero(summary.stillKept)).map((r) => [r, KEEP_REASON_TEXT[r as KeepReason]])),
            ...summary.details,
          },
        })
      : undefined;
    for (const m of pass.marks) {
      await tx.query(
        // last_run_at is the database's time, the clock `timeline_events.ingested_at` is written with.
        `INSERT INTO retention_passes (tenant_id, target, last_cutoff, last_run_at, last_kept) VALUES ($1, $2, $3, now(), $4::jsonb)
         ON CONFLICT (tenant_id, target) DO UPDATE SET last_cutoff = EXCLUDED.last_cutoff, last_run_at = EXCLUDED.last_run_at, last_kept = EXCLUDED.last_kept`,
        [tenant, m.target, m.cutoff.toISOString(), JSON.stringify(nonZero(summary.stillKept))],
      );
    }
    return event;
  });
}
