/**
 * TL-2 retention: deletes each tenant's events older than its retention (180 days unless the
 * tenant set its own), in small batches so the embedded engine never stalls the event loop for
 * long. Runs on an interval; `runOnce` is the unit tests and operators call.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { TimelineRepository } from './timeline-repository.js';
import { PeriodicJob } from '../jobs/periodic-job.js';

export interface RetentionJobOptions {
  repository: TimelineRepository;
  logger: Logger;
  /** Interval between runs in ms. Default 3600000. */
  intervalMs?: number;
  /** Rows deleted per transaction. Default 5000. */
  batchSize?: number;
  /** Clock. Default `Date.now`. */
  clock?: () => number;
}

export interface RetentionOutcome {
  tenant_id: string;
  retention_days: number;
  deleted: number;
}

const DAY_MS = 86_400_000;

export class RetentionJob extends PeriodicJob<RetentionOutcome[]> {
  private readonly clock: () => number;

  constructor(private readonly options: RetentionJobOptions) {
    super({ name: 'timeline retention', intervalMs: options.intervalMs ?? 3_600_000, logger: options.logger });
    this.clock = options.clock ?? Date.now;
  }

  protected async pass(): Promise<RetentionOutcome[]> {
    const { repository, logger } = this.options;
    const batch = this.options.batchSize ?? 5000;
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of await repository.tenants()) {
      const { days } = await repository.retentionDays(tenant);
      const cutoff = new Date(this.clock() - days * DAY_MS);
      let deleted = 0;
      for (;;) {
        const n = await repository.deleteOlderThan(tenant, cutoff, batch);
        deleted += n;
        if (n < batch) break;
      }
      if (deleted > 0) logger.info({ tenant_id: tenant, details: { deleted, retention_days: days } }, 'timeline retention removed expired events');
      outcomes.push({ tenant_id: tenant, retention_days: days, deleted });
    }
    return outcomes;
  }
}
