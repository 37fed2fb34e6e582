/**
 * Seals finished hours and applies STO-4 retention tiers to the embedded store, by the one
 * retention policy (retention/policy.ts), per tenant and signal (the tenant's own tiers, else
 * the service defaults):
 *
 * - hot: once an hour is older than `hot_days`, its index rows (spans, trace records, log rows,
 *   metric samples) are removed — the raw segment stays, for forensic capture and reindexing;
 * - warm / cold: once an hour is older than `cold_days` (when set) or `warm_days`, the segment,
 *   its manifest and any index rows left are removed;
 *
 * except hours an incident retention window overlaps (`telemetry_retention_holds`, INC-2):
 * those keep their index rows and their segment whatever their age. What a pass kept that came
 * due since the previous pass is audited in one `audit.retention.deletion_refused` event per
 * tenant (retention/refusal-audit.ts). Runs on an interval with the injectable clock; `runOnce`
 * is what tests and operators call.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { Signal } from './signal-records.js';
import type { SqlStore } from '../store/sql-store.js';
import { hourStart, HOUR_MS, segmentId } from './segment-path.js';
import { TelemetryIndex } from './telemetry-index.js';
import type { TelemetryStore } from './telemetry-store.js';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';
import { DAY_MS, rawDays, SIGNALS, type SignalTiers } from '../retention/policy.js';
import { describeProtections, readProtections, windowOverlapping } from '../retention/protections.js';
import { finishPass, readPassMark, RETENTION_ACTOR, type PassMark } from '../retention/refusal-audit.js';
import type { TelemetryRetentionSettings } from './telemetry-retention-settings.js';
import { runAs } from '../evidence/request-actor.js';
import type { AuditTrail } from '../timeline/audit-trail.js';

export interface TelemetryRetentionOptions {
  telemetry: TelemetryStore;
  store: SqlStore;
  settings: TelemetryRetentionSettings;
  /** Summary events of what a pass kept commit with the pass's marks. */
  audit: AuditTrail;
  logger: Logger;
  clock: () => number;
  /** Interval in ms. */
  intervalMs: number;
  /**
   * The job seals and prunes the segment files this replica writes, so every replica runs it
   * (`scope: 'replica'`); the leader also prunes the other replicas' sealed segments, and those
   * of the one-service layout, so a replica gone for good leaves nothing behind.
   */
  leadership: Leadership;
}

export interface RetentionRun {
  sealed: number;
  removed: { tenant: string; signal: Signal; hour: string; bytes: number }[];
  /** Hours past their hot tier whose index rows were removed this pass. */
  trimmed: { tenant: string; signal: Signal; hour: string }[];
  /** Hours past their raw retention kept because an incident window overlaps them. */
  held: { tenant: string; signal: Signal; hour: string }[];
  /** Audit events written (one per tenant that had deletions refused since the previous pass). */
  audit_event_ids: string[];
}

/** The index tables that hold rows per segment (the cursor stays: see migration 0202). */
const INDEX_TABLES = ['telemetry_spans', 'telemetry_logs', 'telemetry_trace_records', 'telemetry_metric_points'];

export class TelemetryRetentionJob extends PeriodicJob<RetentionRun> {
  constructor(private readonly options: TelemetryRetentionOptions) {
    super({ name: 'telemetry seal/retention', intervalMs: options.intervalMs, logger: options.logger, leadership: options.leadership, scope: 'replica' });
  }

  protected async pass(): Promise<RetentionRun> {
    const { telemetry, store, clock, logger, settings, audit } = this.options;
    const now = clock();
    const sealed = await telemetry.segments.sealBefore(now);
    const run: RetentionRun = { sealed: sealed.length, removed: [], trimmed: [], held: [], audit_event_ids: [] };
    for (const tenant of await telemetry.segments.tenants()) {
      const { tiers, protections, marks, untrimmed } = await store.tenantTransaction(tenant, async (tx) => {
        const marks = {} as Record<Signal, PassMark>;
        for (const signal of SIGNALS) marks[signal] = await readPassMark(tx, tenant, signal);
        const cursors = await tx.query<{ segment: string }>('SELECT segment FROM telemetry_index_cursor WHERE tenant_id = $1 AND hot_trimmed_at IS NULL', [tenant]);
        return { tiers: await settings.readTx(tx, tenant), protections: await readProtections(tx, tenant), marks, untrimmed: new Set(cursors.rows.map((r) => r.segment)) };
      });
      const perSignal: Record<string, { held_hours: number; newly_held_hours: number; removed_hours: number; trimmed_hours: number; tiers: SignalTiers }> = {};
      let newlyHeld = 0;
      let stillHeld = 0;
      let removedHere = 0;
      const cutoffs: { target: Signal; cutoff: Date }[] = [];
      let since: Date | undefined;
      let previousHeld = 0;
      for (const signal of SIGNALS) {
        const t = tiers[signal];
        const hotCutoff = now - t.hot_days * DAY_MS;
        const rawCutoff = now - rawDays(t) * DAY_MS;
        const mark = marks[signal];
        const stats = { held_hours: 0, newly_held_hours: 0, removed_hours: 0, trimmed_hours: 0, tiers: { hot_days: t.hot_days, warm_days: t.warm_days, cold_days: t.cold_days } };
        for (const seg of await telemetry.segments.segments(tenant, signal)) {
          const start = hourStart(seg.hour);
          const end = start + HOUR_MS;
          if (end > hotCutoff) break;
          // Each replica prunes its own segments; the leader also the others' — another replica's only
          // once sealed (until then its writer may still append), and those of the one-service layout.
          if (seg.replica !== telemetry.segments.replica && !(this.options.leadership.isLeader && (seg.sealed || seg.replica === undefined))) continue;
          const id = segmentId(signal, seg.name);
          if (windowOverlapping(protections, start, end)) {
            if (end <= rawCutoff) {
              run.held.push({ tenant, signal, hour: seg.hour });
              stats.held_hours++;
              // Newly due: it passed the raw cut-off since the previous pass.
              if (!mark.lastCutoff || end > mark.lastCutoff.getTime()) stats.newly_held_hours++;
            }
            continue;
          }
          if (end <= rawCutoff) {
            // Index rows first: a crash in between leaves a segment without rows (re-indexable), never rows without data.
            await store.tenantTransaction(tenant, (tx) => TelemetryIndex.removeSegmentRows(tx, tenant, id));
            const bytes = await telemetry.segments.remove(tenant, signal, seg.name);
            run.removed.push({ tenant, signal, hour: seg.hour, bytes });
            stats.removed_hours++;
            continue;
          }
          if (untrimmed.has(id)) {
            await store.tenantTransaction(tenant, async (tx) => {
              for (const table of INDEX_TABLES) await tx.query(`DELETE FROM ${table} WHERE tenant_id = $1 AND segment = $2`, [tenant, id]);
              await tx.query('UPDATE telemetry_index_cursor SET hot_trimmed_at = $3 WHERE tenant_id = $1 AND segment = $2', [tenant, id, new Date(now).toISOString()]);
            });
            run.trimmed.push({ tenant, signal, hour: seg.hour });
            stats.trimmed_hours++;
          }
        }
        perSignal[signal] = stats;
        newlyHeld += stats.newly_held_hours;
        stillHeld += stats.held_hours;
        removedHere += stats.removed_hours;
        cutoffs.push({ target: signal, cutoff: new Date(rawCutoff) });
        if (mark.lastCutoff && (!since || mark.lastCutoff < since)) since = mark.lastCutoff;
        // Every signal's mark carries the tenant's total (one event covers all signals).
        previousHeld = Math.max(previousHeld, mark.lastKept.incident ?? 0);
      }
      const event = await runAs(tenant, RETENTION_ACTOR, () =>
        finishPass(
          audit,
          {
            tenant,
            scope: 'telemetry',
            previous: { lastCutoff: since, lastRunAt: undefined, lastKept: { incident: previousHeld } },
            marks: cutoffs,
            markWhenQuiet: false,
            summary: {
              refused: { incident: newlyHeld },
              stillKept: { incident: stillHeld },
              deleted: removedHere,
              cutoff: new Date(Math.max(...cutoffs.map((c) => c.cutoff.getTime()))),
              details: { unit: 'segment hours', signals: perSignal, ...describeProtections(protections) },
            },
          },
        ),
      );
      if (event) run.audit_event_ids.push(event.event_id);
    }
    if (run.removed.length > 0 || run.trimmed.length > 0) {
      logger.info({ details: { removed: run.removed.length, trimmed: run.trimmed.length, held: run.held.length } }, 'telemetry retention removed expired segments and index rows');
    }
    return run;
  }
}
