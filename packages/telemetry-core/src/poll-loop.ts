/**
 * A poll repeated every interval while someone listens (incident modes, deep-debug grants read
 * from the service): one poll at a time, the next one scheduled when the last has settled, a
 * failed poll never escaping the timer, and timers that never keep the process alive.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    /** One poll; it reports its own failures (a rejection here is swallowed). */
    private readonly pollOnce: () => Promise<void>,
    /** Whether polling should go on (someone still listens). */
    private readonly wanted: () => boolean,
  ) {}

  /** Starts polling, the first poll at once, unless it runs already or was closed. */
  start(): void {
    if (!this.timer && !this.closed) this.schedule(0);
  }

  /** Stops the schedule (a poll in flight still completes). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Polls now (or joins the poll in flight); resolves when it has been applied. */
  pollNow(): Promise<void> {
    this.inflight ??= this.pollOnce()
      .catch(() => undefined)
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** Stops for good and waits for a poll in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    await this.inflight;
  }

  private schedule(delay: number): void {
    const timer: NodeJS.Timeout = setTimeout(() => {
      void this.pollNow().then(() => {
        // Only this schedule's own timer goes on: after stop() (and a new start()) it is not current.
        if (!this.closed && this.timer === timer && this.wanted()) this.schedule(this.intervalMs);
      });
    }, delay);
    timer.unref();
    this.timer = timer;
  }
}
