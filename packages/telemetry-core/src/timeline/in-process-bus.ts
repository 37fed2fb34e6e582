/**
 * The embedded bus: durable consumers inside one process. A durable consumer keeps its queue
 * while stopped, so a restarted consumer resumes where it stopped; messages are de-duplicated by
 * id inside a window, like JetStream's `Nats-Msg-Id`. Publishing waits while a consumer's queue
 * is full, so a slow consumer slows producers instead of growing memory without bound.
 */
import type { Bus, BusConsumer, BusMessage, ConsumeOptions, PublishOptions, PublishResult } from './bus.js';
import { TimelineError } from './errors.js';
import { subjectMatches } from './subjects.js';

export interface InProcessBusOptions {
  /** How long a message id is remembered for de-duplication, in ms. Default 120000 (JetStream's default). */
  duplicateWindowMs?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 500000. */
  maxDuplicateIds?: number;
  /** Queue length per durable consumer at which `publish` waits. Default 50000. */
  maxPending?: number;
  /** Delay before redelivering a batch whose handler failed, in ms (doubles per attempt, capped at 5 s). Default 100. */
  redeliveryDelayMs?: number;
  /** Clock for the de-duplication window. Default `Date.now`. */
  clock?: () => number;
  /** Called when a handler rejects (the batch is then redelivered). Default: ignore. */
  onHandlerError?: (error: unknown, batch: readonly BusMessage[]) => void;
}

interface Durable {
  filter: string;
  queue: BusMessage[];
  /** Wakes the delivery loop. */
  wake: (() => void) | undefined;
  active: ActiveConsumer | undefined;
}

interface ActiveConsumer {
  stopping: boolean;
  done: Promise<void>;
}

export class InProcessBus implements Bus {
  readonly kind = 'in-process' as const;
  private readonly windowMs: number;
  private readonly maxIds: number;
  private readonly maxPending: number;
  private readonly redeliveryDelayMs: number;
  private readonly clock: () => number;
  private readonly onHandlerError: (error: unknown, batch: readonly BusMessage[]) => void;
  private readonly seen = new Map<string, number>();
  private readonly durables = new Map<string, Durable>();
  private readonly spaceWaiters: (() => void)[] = [];
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.windowMs = options.duplicateWindowMs ?? 120_000;
    this.maxIds = options.maxDuplicateIds ?? 500_000;
    this.maxPending = options.maxPending ?? 50_000;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 100;
    this.clock = options.clock ?? Date.now;
    this.onHandlerError = options.onHandlerError ?? (() => undefined);
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    if (this.closed) throw new TimelineError('bus.closed', 'the bus is closed');
    const now = this.clock();
    this.forgetExpired(now);
    if (this.seen.has(options.msgId)) return { duplicate: true };
    const targets = [...this.durables.values()].filter((d) => subjectMatches(d.filter, subject));
    while (targets.some((d) => d.queue.length >= this.maxPending)) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      if (this.closed) throw new TimelineError('bus.closed', 'the bus closed while the publish waited for space');
    }
    // Re-check after waiting: another publisher may have sent the same id meanwhile.
    if (this.seen.has(options.msgId)) return { duplicate: true };
    this.seen.set(options.msgId, now);
    for (const d of targets) {
      d.queue.push({ subject, id: options.msgId, data, deliveryCount: 1 });
      d.wake?.();
    }
    return { duplicate: false };
  }

  async consume(options: ConsumeOptions): Promise<BusConsumer> {
    if (this.closed) throw new TimelineError('bus.closed', 'the bus is closed');
    let durable = this.durables.get(options.durable);
    if (!durable) {
      durable = { filter: options.filterSubject, queue: [], wake: undefined, active: undefined };
      this.durables.set(options.durable, durable);
    } else if (durable.active && !durable.active.stopping) {
      throw new TimelineError('bus.subject_invalid', `durable consumer "${options.durable}" is already being consumed`);
    } else {
      await durable.active?.done;
      durable.filter = options.filterSubject;
    }
    const active: ActiveConsumer = { stopping: false, done: Promise.resolve() };
    active.done = this.deliver(durable, active, options.handler, options.maxBatch ?? 1000);
    durable.active = active;
    const d = durable;
    return {
      stop: async () => {
        active.stopping = true;
        d.wake?.();
        await active.done;
      },
    };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new TimelineError('bus.unavailable', 'the in-process bus is closed');
  }

  /** Waits (up to `timeoutMs`, default 10 s) for consumers to empty their queues, then stops them. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    const deadline = this.clock() + timeoutMs;
    while (this.clock() < deadline && [...this.durables.values()].some((d) => d.active && !d.active.stopping && d.queue.length > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.closed = true;
    for (const d of this.durables.values()) {
      if (d.active) d.active.stopping = true;
      d.wake?.();
    }
    await Promise.all([...this.durables.values()].map((d) => d.active?.done));
    for (const w of this.spaceWaiters.splice(0)) w();
  }

  /** Messages waiting for `durable` (for readiness and queue-depth metrics). */
  pending(durable: string): number {
    return this.durables.get(durable)?.queue.length ?? 0;
  }

  private async deliver(d: Durable, active: ActiveConsumer, handler: ConsumeOptions['handler'], maxBatch: number): Promise<void> {
    let failures = 0;
    while (!active.stopping) {
      if (d.queue.length === 0) {
        await new Promise<void>((resolve) => {
          d.wake = resolve;
        });
        d.wake = undefined;
        continue;
      }
      const batch = d.queue.slice(0, maxBatch);
      try {
        await handler(batch);
        d.queue.splice(0, batch.length);
        failures = 0;
        this.releaseSpace();
      } catch (error) {
        this.onHandlerError(error, batch);
        failures++;
        for (let i = 0; i < batch.length; i++) {
          const m = batch[i]!;
          d.queue[i] = { ...m, deliveryCount: m.deliveryCount + 1 };
        }
        const delay = Math.min(5000, this.redeliveryDelayMs * 2 ** (failures - 1));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          d.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        d.wake = undefined;
      }
    }
  }

  private releaseSpace(): void {
    if (this.spaceWaiters.length === 0) return;
    if ([...this.durables.values()].some((d) => d.queue.length >= this.maxPending)) return;
    for (const w of this.spaceWaiters.splice(0)) w();
  }

  private forgetExpired(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size <= this.maxIds) break;
      this.seen.delete(id);
    }
  }
}
