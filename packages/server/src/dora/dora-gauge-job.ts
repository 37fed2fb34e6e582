/**
 * DORA-2's gauges on `/metrics` (`dora_deployment_frequency_per_day`,
 * `dora_change_failure_rate_percent`) over the trailing window (`STELLA_DORA_GAUGE_WINDOW_DAYS`):
 * computed again every `STELLA_DORA_GAUGE_INTERVAL_MS` for every tenant (and at once for a
 * tenant that records a deployment), so they age with the window even when nothing is recorded.
 * Every replica computes its own from the store, so any replica's scrape is right: the job runs
 * on every replica (`scope: 'replica'`), not on the leader alone, and writes nothing.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';
import type { DoraRepository } from './dora-repository.js';
import type { DoraService } from './dora-service.js';

export class DoraGaugeJob extends PeriodicJob<number> {
  constructor(
    private readonly service: DoraService,
    private readonly repository: DoraRepository,
    logger: Logger,
    intervalMs: number,
    leadership: Leadership,
  ) {
    super({ name: 'DORA gauges', intervalMs, logger, leadership, scope: 'replica' });
  }

  /** Refreshes every tenant's gauges; answers how many tenants were visited. */
  protected async pass(): Promise<number> {
    const tenants = await this.repository.tenants();
    await this.service.refreshGaugesQuietly(tenants);
    return tenants.length;
  }
}
