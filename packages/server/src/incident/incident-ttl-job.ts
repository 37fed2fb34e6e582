/**
 * Auto-revert (INC-1): ends incident modes whose TTL has passed, on an interval and on the
 * service's injectable clock — tests advance the clock and call `runOnce`, never sleep.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { IncidentController, IncidentRecord } from './incident-controller.js';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';

export class IncidentTtlJob extends PeriodicJob<IncidentRecord[]> {
  constructor(
    private readonly controller: IncidentController,
    logger: Logger,
    intervalMs: number,
    leadership: Leadership,
  ) {
    super({ name: 'incident TTL', intervalMs, logger, leadership });
  }

  protected pass(): Promise<IncidentRecord[]> {
    return this.controller.expire();
  }
}
