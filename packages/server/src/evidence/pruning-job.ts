/**
 * EVI-5 / STO-4 retention of evidence: deletes bundles past their tenant's retention, except
 * those whose case is under legal hold or whose retention incident mode extended. Every refusal
 * is audited (`audit.evidence.deletion_refused`), every deletion too (`audit.evidence.deleted`).
 */
import type { Logger } from '@stellaops/telemetry-core';
import { runAs } from './request-actor.js';
import type { EvidenceLocker } from './evidence-locker.js';
import { PeriodicJob } from '../jobs/periodic-job.js';

export interface PruningJobOptions {
  locker: EvidenceLocker;
  logger: Logger;
  /** Interval between runs in ms. Default 3600000. */
  intervalMs?: number;
  /** Bundles examined per tenant per run. Default 500. */
  batchSize?: number;
  /** Clock. Default `Date.now`. */
  clock?: () => number;
}

export interface PruningOutcome {
  tenant_id: string;
  deleted: string[];
  refused: { bundle_id: string; code: string }[];
}

const DAY_MS = 86_400_000;

export class PruningJob extends PeriodicJob<PruningOutcome[]> {
  private readonly clock: () => number;

  constructor(private readonly options: PruningJobOptions) {
    super({ name: 'evidence pruning', intervalMs: options.intervalMs ?? 3_600_000, logger: options.logger });
    this.clock = options.clock ?? Date.now;
  }

  protected async pass(): Promise<PruningOutcome[]> {
    const { locker, logger } = this.options;
    const repo = locker.repository;
    const outcomes: PruningOutcome[] = [];
    for (const tenant of await repo.tenants()) {
      const settings = await repo.settings(tenant);
      const cutoff = new Date(this.clock() - settings.retention_days * DAY_MS);
      const outcome: PruningOutcome = { tenant_id: tenant, deleted: [], refused: [] };
      for (const row of await repo.expiredBundles(tenant, cutoff, this.options.batchSize ?? 500)) {
        try {
          await runAs(tenant, 'stella-observability/retention', () => locker.delete(tenant, row.id, { actor: 'retention', via: 'retention' }));
          outcome.deleted.push(row.id);
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'internal';
          outcome.refused.push({ bundle_id: row.id, code });
          if (code !== 'evidence.on_hold' && code !== 'evidence.retained') logger.error({ err: error, tenant_id: tenant, details: { bundle_id: row.id } }, 'evidence pruning failed for a bundle');
        }
      }
      if (outcome.deleted.length || outcome.refused.length) {
        logger.info({ tenant_id: tenant, details: { deleted: outcome.deleted.length, refused: outcome.refused.length } }, 'evidence retention pass');
      }
      outcomes.push(outcome);
    }
    return outcomes;
  }
}
