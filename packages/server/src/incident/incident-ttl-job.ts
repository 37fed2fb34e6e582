/**
 * Auto-revert (INC-1): ends incident modes whose TTL has passed, on an interval and on the
 * service's injectable clock — tests advance the clock and call `runOnce`, never sleep.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { IncidentController, IncidentRecord } from './incident-controller.js';

export class IncidentTtlJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<IncidentRecord[]> | undefined;

  constructor(
    private readonly controller: IncidentController,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch((error: unknown) => this.logger.error({ err: error }, 'incident TTL run failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  runOnce(): Promise<IncidentRecord[]> {
    this.running ??= this.controller.expire().finally(() => (this.running = undefined));
    return this.running;
  }
}
