/**
 * Deep debug ends by itself: the job ends grants whose TTL has passed (each audited once as
 * `audit.deep_debug.expired` and broadcast), on an interval and on the service's injectable
 * clock — tests advance the clock and call `runOnce`, never sleep. Processes that applied a
 * grant drop it at its expiry on their own; the job makes the record and the audit trail say so.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { Leadership } from '../jobs/leadership.js';
import { PeriodicJob } from '../jobs/periodic-job.js';
import type { DeepDebugController, DeepDebugRecord } from './deep-debug-controller.js';

export class DeepDebugTtlJob extends PeriodicJob<DeepDebugRecord[]> {
  constructor(
    private readonly controller: DeepDebugController,
    logger: Logger,
    intervalMs: number,
    leadership: Leadership,
  ) {
    super({ name: 'deep-debug TTL', intervalMs, logger, leadership });
  }

  protected pass(): Promise<DeepDebugRecord[]> {
    return this.controller.expire();
  }
}
