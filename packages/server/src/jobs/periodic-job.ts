/**
 * The service's background jobs (retention, pruning, TTL expiry, SLO evaluation) share one
 * schedule: a timer that never keeps the process alive, single-flight passes (a pass still
 * running is shared, never overlapped), failures logged rather than thrown into the timer, and a
 * `stop()` that waits for the pass in hand. Tests and operators call `runOnce()` directly.
 *
 * A job's timer runs passes only while the replica leads (`leadership.ts`): one replica of a
 * cluster runs each job. A replica that becomes the leader runs a pass at once, so a handover
 * never waits for a whole interval; one that stops leading starts no further pass (the pass in
 * hand finishes — every pass is safe beside another replica's, by conditional updates).
 * A job whose result is the replica's own (`scope: 'replica'`, e.g. gauges every replica
 * reports on its own `/metrics`) runs on every replica.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { Leadership } from './leadership.js';

export interface JobSchedule {
  /** Human name used in the failure log line, e.g. `timeline retention`. */
  name: string;
  intervalMs: number;
  logger: Logger;
  /** Who runs the job: the cluster's leader. */
  leadership: Leadership;
  /** `cluster` (default): the leader only; `replica`: every replica, for state of its own. */
  scope?: 'cluster' | 'replica';
}

export abstract class PeriodicJob<T> {
  private timer: NodeJS.Timeout | undefined;
  private unfollow: (() => void) | undefined;
  private running: Promise<T> | undefined;

  protected constructor(private readonly schedule: JobSchedule) {}

  /** One pass of the job's work. */
  protected abstract pass(): Promise<T>;

  /** Whether this replica's timer runs the job now. */
  get active(): boolean {
    return this.schedule.scope === 'replica' || this.schedule.leadership.isLeader;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.schedule.intervalMs);
    this.timer.unref();
    if (this.schedule.scope !== 'replica') {
      this.unfollow = this.schedule.leadership.onChange((leader) => {
        if (leader && this.timer) this.tick();
      });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unfollow?.();
    this.unfollow = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Runs a pass now, leader or not; concurrent calls share the pass in progress. */
  runOnce(): Promise<T> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private tick(): void {
    if (!this.active) return;
    let pass: Promise<T>;
    try {
      pass = this.runOnce();
    } catch (error) {
      this.schedule.logger.error({ err: error }, `${this.schedule.name} run failed`);
      return;
    }
    pass.catch((error: unknown) => this.schedule.logger.error({ err: error }, `${this.schedule.name} run failed`));
  }
}
