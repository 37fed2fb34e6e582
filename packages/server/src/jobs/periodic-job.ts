/**
 * The service's background jobs (retention, pruning, TTL expiry) share one schedule: a timer
 * that never keeps the process alive, single-flight passes (a pass still running is shared,
 * never overlapped), failures logged rather than thrown into the timer, and a `stop()` that
 * waits for the pass in hand. Tests and operators call `runOnce()` directly.
 */
import type { Logger } from '@stellaops/telemetry-core';

export interface JobSchedule {
  /** Human name used in the failure log line, e.g. `timeline retention`. */
  name: string;
  intervalMs: number;
  logger: Logger;
}

export abstract class PeriodicJob<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  protected constructor(private readonly schedule: JobSchedule) {}

  /** One pass of the job's work. */
  protected abstract pass(): Promise<T>;

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch((error: unknown) => this.schedule.logger.error({ err: error }, `${this.schedule.name} run failed`));
    }, this.schedule.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Runs a pass now; concurrent calls share the pass in progress. */
  runOnce(): Promise<T> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }
}
