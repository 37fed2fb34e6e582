/**
 * TL-2 / STO-4 retention of the timeline, by the one retention policy (retention/policy.ts):
 * each tenant's events older than its retention (180 days unless the tenant set its own, never
 * under 30) are deleted in small batches, so the embedded engine never stalls the event loop
 * for long — except what the policy keeps whatever its age:
 *
 * - events about a case under legal hold: the case, its bundles, and what its bundles are about;
 * - events inside an incident retention window (`telemetry_retention_holds`, INC-2);
 * - events that describe an evidence bundle that still exists;
 * - `audit.*` events younger than 400 days (or the tenant's retention, when longer);
 * - custody events (`details.custody`, `evidence.*`, `attestation.*`) younger than the
 *   evidence retention (or the tenant's timeline retention, when longer).
 *
 * What a pass kept that came due since the previous pass is audited in one
 * `audit.retention.deletion_refused` event per tenant (retention/refusal-audit.ts). Runs on an
 * interval; `runOnce` is the unit tests and operators call.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import type { TimelineRepository } from './timeline-repository.js';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';
import { emptyReasons, timelineCutoffs, type KeepReason } from '../retention/policy.js';
import { describeProtections, existingTables, readProtections, type TenantProtections } from '../retention/protections.js';
import { finishPass, readPassMark, type PassMark } from '../retention/refusal-audit.js';
import type { AuditTrail } from './audit-trail.js';

export interface RetentionJobOptions {
  repository: TimelineRepository;
  store: SqlStore;
  /** Summary events of what a pass kept commit with the pass's marks. */
  audit: AuditTrail;
  logger: Logger;
  /** Evidence retention for tenants without their own setting (custody events are kept at least that long). */
  defaultEvidenceDays: number;
  /** Interval between runs in ms. Default 3600000. */
  intervalMs?: number;
  /** Rows deleted per transaction. Default 5000. */
  batchSize?: number;
  /** Clock. Default `Date.now`. */
  clock?: () => number;
  /** The job runs on the cluster's leader. */
  leadership: Leadership;
}

export interface RetentionOutcome {
  tenant_id: string;
  retention_days: number;
  deleted: number;
  /** Events past the retention kept by the policy (holds, floors), by reason. */
  kept: Partial<Record<KeepReason, number>>;
  /** The audit event of this pass, when it refused anything newly due. */
  audit_event_id: string | null;
}

interface PassContext {
  tenant: string;
  protections: TenantProtections;
  cut: ReturnType<typeof timelineCutoffs>;
}

/** A statement's parameters, `$1` being the tenant. */
class Params {
  readonly values: unknown[];
  constructor(tenant: string) {
    this.values = [tenant];
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The keep rules as SQL over `timeline_events e`, most specific reason first. */
function keepRules(ctx: PassContext, p: Params): [KeepReason, string][] {
  const rules: [KeepReason, string][] = [];
  const { protections: prot, cut } = ctx;
  if (prot.heldCases.length > 0) {
    const cases = p.add(prot.heldCases.map((c) => c.case_id));
    const bundles = p.add(prot.heldBundleIds);
    const subjects = p.add(prot.heldSubjects);
    rules.push([
      'legal_hold',
      `((e.resource_type = 'evidence_case' AND e.resource_id = ANY(${cases}::text[]))
        OR (e.details ->> 'case_id') = ANY(${cases}::text[])
        OR (e.resource_type = 'evidence_bundle' AND e.resource_id = ANY(${bundles}::text[]))
        OR (e.details ->> 'bundle_id') = ANY(${bundles}::text[])
        OR (e.details -> 'custody' ->> 'bundle_id') = ANY(${bundles}::text[])
        OR (e.resource_type || '/' || e.resource_id) = ANY(${subjects}::text[])
        OR (e.details -> 'custody' ->> 'subject') = ANY(${subjects}::text[]))`,
    ]);
  }
  if (prot.incidentWindows.length > 0) {
    const from = p.add(prot.incidentWindows.map((w) => new Date(w.from_ms).toISOString()));
    const to = p.add(prot.incidentWindows.map((w) => new Date(w.to_ms).toISOString()));
    rules.push(['incident', `EXISTS (SELECT 1 FROM unnest(${from}::timestamptz[], ${to}::timestamptz[]) AS w(f, t) WHERE e.ts >= w.f AND e.ts <= w.t)`]);
  }
  rules.push([
    'evidence_exists',
    `((e.resource_type = 'evidence_bundle' OR e.details ? 'bundle_id' OR (e.details -> 'custody') ? 'bundle_id')
      AND EXISTS (SELECT 1 FROM evidence_bundles b WHERE b.tenant_id = $1
                   AND b.id IN (CASE WHEN e.resource_type = 'evidence_bundle' THEN e.resource_id END, e.details ->> 'bundle_id', e.details -> 'custody' ->> 'bundle_id')))`,
  ]);
  rules.push(['audit_floor', `(starts_with(e.kind, 'audit.') AND e.ts >= ${p.add(cut.audit.toISOString())}::timestamptz)`]);
  rules.push([
    'custody_floor',
    `((e.details ? 'custody' OR starts_with(e.kind, 'evidence.') OR starts_with(e.kind, 'attestation.')) AND e.ts >= ${p.add(cut.custody.toISOString())}::timestamptz)`,
  ]);
  return rules;
}

const EPOCH = { ts: '0001-01-01T00:00:00.000000Z', id: '00000000-0000-0000-0000-000000000000' };

/** Deletes up to `batch` events past the cut-off that no rule keeps, after the keyset position. */
async function deleteBatch(tx: SqlTx, ctx: PassContext, after: { ts: string; id: string }, batch: number): Promise<{ n: number; last?: { ts: string; id: string } }> {
  const p = new Params(ctx.tenant);
  const cutoff = p.add(ctx.cut.events.toISOString());
  const afterTs = p.add(after.ts);
  const afterId = p.add(after.id);
  const keep = keepRules(ctx, p)
    .map(([, sql]) => sql)
    .join('\n OR ');
  const limit = p.add(batch);
  const { rows } = await tx.query<{ n: number; last_ts: string | null; last_id: string | null }>(
    `WITH doomed AS (
       SELECT e.event_id, e.ts FROM timeline_events e
        WHERE e.tenant_id = $1 AND e.ts < ${cutoff}::timestamptz
          AND (e.ts, e.event_id) > (${afterTs}::timestamptz, ${afterId}::uuid)
          AND NOT COALESCE((${keep}), false)
        ORDER BY e.ts, e.event_id LIMIT ${limit}
     ), gone AS (
       DELETE FROM timeline_events t USING doomed d WHERE t.tenant_id = $1 AND t.event_id = d.event_id RETURNING t.event_id
     ), last AS (
       SELECT d.ts, d.event_id FROM doomed d ORDER BY d.ts DESC, d.event_id DESC LIMIT 1
     )
     SELECT (SELECT count(*)::int FROM gone) AS n,
            (SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM last) AS last_ts,
            (SELECT event_id::text FROM last) AS last_id`,
    p.values,
  );
  const r = rows[0]!;
  return { n: Number(r.n), ...(r.last_ts && r.last_id ? { last: { ts: r.last_ts, id: r.last_id } } : {}) };
}

/** What is still past the cut-off, by the rule that keeps it; `fresh` rows came due since `mark`. */
async function keptByReason(tx: SqlTx, ctx: PassContext, mark: PassMark): Promise<{ fresh: Partial<Record<KeepReason, number>>; all: Partial<Record<KeepReason, number>> }> {
  const p = new Params(ctx.tenant);
  const cutoff = p.add(ctx.cut.events.toISOString());
  // Without a previous pass everything kept is newly refused.
  const since = p.add(mark.lastCutoff?.toISOString() ?? EPOCH.ts);
  const lastRun = p.add(mark.lastRunAt?.toISOString() ?? EPOCH.ts);
  const cases = keepRules(ctx, p)
    .map(([reason, sql]) => `WHEN ${sql} THEN '${reason}'`)
    .join('\n ');
  const { rows } = await tx.query<{ reason: string; fresh: boolean; n: number }>(
    `SELECT reason, fresh, count(*)::int AS n FROM (
       SELECT CASE ${cases} ELSE 'none' END AS reason,
              (e.ts >= ${since}::timestamptz OR e.ingested_at > ${lastRun}::timestamptz) AS fresh
         FROM timeline_events e WHERE e.tenant_id = $1 AND e.ts < ${cutoff}::timestamptz
     ) AS k GROUP BY reason, fresh`,
    p.values,
  );
  const fresh = emptyReasons();
  const all = emptyReasons();
  for (const r of rows) {
    if (r.reason === 'none') continue;
    const reason = r.reason as KeepReason;
    all[reason] += Number(r.n);
    if (r.fresh) fresh[reason] += Number(r.n);
  }
  return { fresh, all };
}

export class RetentionJob extends PeriodicJob<RetentionOutcome[]> {
  private readonly clock: () => number;

  constructor(private readonly options: RetentionJobOptions) {
    super({ name: 'timeline retention', intervalMs: options.intervalMs ?? 3_600_000, logger: options.logger, leadership: options.leadership });
    this.clock = options.clock ?? Date.now;
  }

  protected async pass(): Promise<RetentionOutcome[]> {
    const { repository, store, audit, logger } = this.options;
    const batch = this.options.batchSize ?? 5000;
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of await repository.tenants()) {
      const now = this.clock();
      const { days } = await repository.retentionDays(tenant);
      const { protections, evidenceDays, mark } = await store.tenantTransaction(tenant, async (tx) => {
        const tables = await existingTables(tx, ['evidence_settings']);
        let evidence = this.options.defaultEvidenceDays;
        if (tables.has('evidence_settings')) {
          const { rows } = await tx.query<{ retention_days: number }>('SELECT retention_days FROM evidence_settings WHERE tenant_id = $1', [tenant]);
          if (rows[0]) evidence = Number(rows[0].retention_days);
        }
        return { protections: await readProtections(tx, tenant), evidenceDays: evidence, mark: await readPassMark(tx, tenant, 'timeline') };
      });
      const ctx: PassContext = { tenant, protections, cut: timelineCutoffs(now, days, evidenceDays) };
      let deleted = 0;
      let after = EPOCH;
      for (;;) {
        const r = await store.tenantTransaction(tenant, (tx) => deleteBatch(tx, ctx, after, batch));
        deleted += r.n;
        if (!r.last || r.n < batch) break;
        after = r.last;
      }
      // With the protected and the unprotected rows the pass could not delete told apart; the
      // count reads only what is past the cut-off, which after the pass is what was kept.
      const { fresh, all } = await store.tenantTransaction(tenant, (tx) => keptByReason(tx, ctx, mark));
      const event = await finishPass(
        audit,
        {
          tenant,
          scope: 'timeline',
          previous: mark,
          marks: [{ target: 'timeline', cutoff: ctx.cut.events }],
          summary: {
            refused: fresh,
            stillKept: all,
            deleted,
            cutoff: ctx.cut.events,
            details: {
              retention_days: days,
              audit_kept_until: ctx.cut.audit.toISOString(),
              custody_kept_until: ctx.cut.custody.toISOString(),
              ...describeProtections(protections),
            },
          },
        },
      );
      const kept = Object.fromEntries(Object.entries(all).filter(([, n]) => n > 0)) as Partial<Record<KeepReason, number>>;
      if (deleted > 0 || event) logger.info({ tenant_id: tenant, details: { deleted, kept, retention_days: days } }, 'timeline retention pass');
      outcomes.push({ tenant_id: tenant, retention_days: days, deleted, kept, audit_event_id: event?.event_id ?? null });
    }
    return outcomes;
  }
}
