/**
 * EVI-5 / STO-4 retention of evidence, by the one retention policy (retention/policy.ts):
 * deletes bundles past their tenant's retention (180 days unless the tenant set its own, never
 * under 90), except those the policy keeps:
 *
 * - the bundle's case is under legal hold (`legal_hold`, code `evidence.on_hold`);
 * - it was created inside an incident retention window, or the tenant's evidence retention is
 *   extended by incident mode (`incident`, code `evidence.retained`);
 * - its own retain-until (the object lock written at commit) has not passed, or the object store
 *   refuses (`object_lock`, code `evidence.retained`).
 *
 * Every deletion is audited (`audit.evidence.deleted`, with the row's removal). Refusals are
 * audited once per pass, not per bundle: what came due since the previous pass and was kept is
 * summarised in one `audit.retention.deletion_refused` event per tenant
 * (retention/refusal-audit.ts). A refused deletion through the API is audited on its own
 * (`audit.evidence.deletion_refused`).
 */
import type { Logger } from '@stellaops/telemetry-core';
import { runAs } from './request-actor.js';
import { DeletionRefusedError, type EvidenceLocker } from './evidence-locker.js';
import type { BundleRow, EvidenceRepository } from './evidence-repository.js';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';
import { DAY_MS, emptyReasons, type KeepReason } from '../retention/policy.js';
import { describeProtections, readProtections, windowOverlapping, type TenantProtections } from '../retention/protections.js';
import { finishPass, readPassMark, RETENTION_ACTOR } from '../retention/refusal-audit.js';
import type { AuditTrail } from '../timeline/audit-trail.js';

export interface PruningJobOptions {
  locker: Pick<EvidenceLocker, 'delete'>;
  repository: EvidenceRepository;
  /** Summary events of what a pass kept commit with the pass's marks. */
  audit: AuditTrail;
  logger: Logger;
  /** Interval between runs in ms. Default 3600000. */
  intervalMs?: number;
  /** Bundles read per page while a pass walks the expired ones. Default 500. */
  batchSize?: number;
  /** Clock. Default `Date.now`. */
  clock?: () => number;
  /** The job runs on the cluster's leader. */
  leadership: Leadership;
}

export interface PruningOutcome {
  tenant_id: string;
  deleted: string[];
  /** Every expired bundle kept, with the code a deletion through the API would get and the policy's reason. */
  refused: { bundle_id: string; code: string; reason: KeepReason }[];
  /** The audit event of this pass, when it refused anything newly due. */
  audit_event_id: string | null;
}

/** Why the policy keeps an expired bundle at `now`, or undefined when it may go. */
function keepReason(row: BundleRow, p: TenantProtections, now: number): { reason: KeepReason; code: string } | undefined {
  if (p.heldCases.some((c) => c.case_id === row.case_id)) return { reason: 'legal_hold', code: 'evidence.on_hold' };
  const created = Date.parse(row.created_at);
  if (windowOverlapping(p, created, created + 1) || (p.evidenceExtendedUntil !== undefined && p.evidenceExtendedUntil > now)) return { reason: 'incident', code: 'evidence.retained' };
  if (row.retain_until && Date.parse(row.retain_until) > now) return { reason: 'object_lock', code: 'evidence.retained' };
  return undefined;
}

export class PruningJob extends PeriodicJob<PruningOutcome[]> {
  private readonly clock: () => number;

  constructor(private readonly options: PruningJobOptions) {
    super({ name: 'evidence pruning', intervalMs: options.intervalMs ?? 3_600_000, logger: options.logger, leadership: options.leadership });
    this.clock = options.clock ?? Date.now;
  }

  protected async pass(): Promise<PruningOutcome[]> {
    const { locker, logger, audit, repository: repo } = this.options;
    const batch = this.options.batchSize ?? 500;
    const outcomes: PruningOutcome[] = [];
    for (const tenant of await repo.tenants()) {
      const now = this.clock();
      const settings = await repo.settings(tenant);
      const cutoff = new Date(now - settings.retention_days * DAY_MS);
      const { protections, mark } = await repo.tx(tenant, async (tx) => ({ protections: await readProtections(tx, tenant), mark: await readPassMark(tx, tenant, 'evidence') }));
      const outcome: PruningOutcome = { tenant_id: tenant, deleted: [], refused: [], audit_event_id: null };
      const fresh = emptyReasons();
      const all = emptyReasons();
      const kept = (row: BundleRow, reason: KeepReason, code: string): void => {
        outcome.refused.push({ bundle_id: row.id, code, reason });
        all[reason]++;
        if (!mark.lastCutoff || Date.parse(row.created_at) >= mark.lastCutoff.getTime()) fresh[reason]++;
      };
      let after: { created_at: string; id: string } | undefined;
      for (;;) {
        const rows = await repo.expiredBundles(tenant, cutoff, batch, after);
        for (const row of rows) {
          const keep = keepReason(row, protections, now);
          if (keep) {
            kept(row, keep.reason, keep.code);
            continue;
          }
          try {
            // The locker checks again (a hold placed meanwhile wins) and audits the deletion.
            await runAs(tenant, RETENTION_ACTOR, () => locker.delete(tenant, row.id, { actor: 'retention', via: 'retention', auditRefusal: false }));
            outcome.deleted.push(row.id);
          } catch (error) {
            if (error instanceof DeletionRefusedError) kept(row, error.refusal.keep, error.code);
            else logger.error({ err: error, tenant_id: tenant, details: { bundle_id: row.id } }, 'evidence pruning failed for a bundle');
          }
        }
        const last = rows[rows.length - 1];
        if (!last || rows.length < batch) break;
        after = { created_at: last.created_at, id: last.id };
      }
      const event = await runAs(tenant, RETENTION_ACTOR, () =>
        finishPass(
          audit,
          {
            tenant,
            scope: 'evidence',
            previous: mark,
            marks: [{ target: 'evidence', cutoff }],
            summary: {
              refused: fresh,
              stillKept: all,
              deleted: outcome.deleted.length,
              cutoff,
              details: {
                retention_days: settings.retention_days,
                bundles: outcome.refused.slice(0, 100).map((r) => ({ bundle_id: r.bundle_id, reason: r.reason })),
                ...describeProtections(protections),
              },
            },
          },
        ),
      );
      outcome.audit_event_id = event?.event_id ?? null;
      if (outcome.deleted.length || outcome.refused.length) {
        logger.info({ tenant_id: tenant, details: { deleted: outcome.deleted.length, kept: outcome.refused.length } }, 'evidence retention pass');
      }
      outcomes.push(outcome);
    }
    return outcomes;
  }
}
