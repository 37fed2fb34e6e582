/**
 * The embedded bus, made durable (STO-5): telemetry-core's `Bus` over an outbox table in the
 * service's own SQL store, so "accepted by the bus" means "committed to disk" on embedded
 * defaults too, and a 2xx survives `kill -9`.
 *
 * - `publish` resolves only after the message's row committed in `bus_outbox`. Concurrent
 *   publishes coalesce (group commit): while one multi-row `INSERT … unnest` transaction is in
 *   flight the next ones queue, and the following transaction takes them all — one round trip
 *   per group, not per message, and no timer.
 * - Right after the commit, each live consumer whose filter matches gets the message from
 *   memory: the table is read only when a consumer starts (it resumes after its durable
 *   cursor in `bus_consumers`) or falls further behind than `maxPending` (it then drops its
 *   in-memory tail and reads the table in pages until it has caught up).
 * - A batch is acknowledged when its handler resolves: the durable cursor moves past it, and
 *   rows every consumer has acknowledged are deleted. A rejected batch is redelivered (with
 *   `deliveryCount` + 1) after a growing delay, without bound: the handler decides what it
 *   cannot process (the timeline indexer quarantines it).
 * - De-duplication by message id inside a window, as JetStream's `Nats-Msg-Id` (in memory:
 *   after a restart a re-published id is stored again, and the indexer's idempotent insert
 *   makes that harmless).
 *
 * One process per store: like the in-process bus it replaces, it delivers to consumers of its
 * own process. Several replicas need NATS JetStream.
 */
import { subjectMatches, TimelineError, type Bus, type BusConsumer, type BusMessage, type ConsumeOptions, type PublishOptions, type PublishResult } from '@stellaops/telemetry-core';
import type { SqlStore } from '../store/sql-store.js';
import { StoreError } from '../store/store-error.js';

export interface OutboxBusOptions {
  store: SqlStore;
  /** How long a message id is remembered for de-duplication, in ms. Default 120000 (JetStream's default). */
  duplicateWindowMs?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 500000. */
  maxDuplicateIds?: number;
  /** Most messages in one group commit. Default 5000. */
  maxGroupMessages?: number;
  /** Most payload bytes in one group commit. Default 8 MiB. */
  maxGroupBytes?: number;
  /** Messages a consumer holds in memory before it reads the rest from the table. Default 20000. */
  maxPending?: number;
  /** Rows per read when a consumer catches up from the table. Default 2000 (at least its batch size). */
  pageSize?: number;
  /** Delay before redelivering a rejected batch, in ms (doubles per attempt, capped at 5 s). Default 100. */
  redeliveryDelayMs?: number;
  /**
   * A durable name no process has consumed under for this long stops holding back deletion of
   * acknowledged rows, and is forgotten (per-process names, e.g. incident-mode sources, are
   * left behind by every restart). Counted from the later of its last use and this bus's
   * start, so a consumer that restarts after a long outage still finds its messages. Default 1 hour.
   */
  abandonAfterMs?: number;
  /** Clock for the de-duplication window and abandoned names. Default `Date.now`. */
  clock?: () => number;
  /** Called when a handler rejects (the batch is then redelivered). Default: ignore. */
  onHandlerError?: (error: unknown, batch: readonly BusMessage[]) => void;
  /** Called when background work fails (reading the table, saving a cursor, deleting acknowledged rows); it is retried. Default: ignore. */
  onError?: (error: unknown, what: string) => void;
}

interface Entry {
  seq: number;
  message: BusMessage;
}

interface PendingPublish {
  subject: string;
  msgId: string;
  data: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Consumer {
  durable: string;
  filter: string;
  handler: ConsumeOptions['handler'];
  maxBatch: number;
  /** Messages ready for delivery, ascending seq; the batch in hand is at the front until acknowledged. */
  queue: Entry[];
  /** True: new commits are appended from memory. False: the consumer reads the table. */
  live: boolean;
  /** Highest seq looked at: in the queue, delivered, or read past (not matching the filter). */
  seenUpTo: number;
  stopping: boolean;
  /** Wakes a consumer waiting for messages. */
  wake: (() => void) | undefined;
  /** Ends a redelivery pause early (stop only: new messages do not shorten a backoff). */
  interrupt: (() => void) | undefined;
  done: Promise<void>;
}

interface Durable {
  filter: string;
  /** Acknowledged cursor as saved in `bus_consumers`. */
  ackedSeq: number;
  /** Last use, ms (from the table, or now while a consumer of this process holds it). */
  seenAt: number;
  active: Consumer | undefined;
}

const toNumber = (value: unknown): number => Number(value ?? 0);

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function publishError(error: unknown): TimelineError {
  if (error instanceof TimelineError) return error;
  const unreachable = error instanceof StoreError && error.code === 'store.unavailable';
  return new TimelineError(unreachable ? 'bus.unavailable' : 'bus.publish_failed', `the outbox did not commit the message: ${(error as Error)?.message ?? String(error)}`, undefined, {
    cause: error,
  });
}

export class OutboxBus implements Bus {
  /** Still the embedded, in-process bus — now with a durable log. */
  readonly kind = 'in-process' as const;
  private readonly store: SqlStore;
  private readonly windowMs: number;
  private readonly maxIds: number;
  private readonly maxGroupMessages: number;
  private readonly maxGroupBytes: number;
  private readonly maxPending: number;
  private readonly pageSize: number;
  private readonly redeliveryDelayMs: number;
  private readonly abandonAfterMs: number;
  private readonly clock: () => number;
  private readonly onHandlerError: (error: unknown, batch: readonly BusMessage[]) => void;
  private readonly onError: (error: unknown, what: string) => void;
  private readonly openedAt: number;

  private readonly seen = new Map<string, number>();
  /** Publishes of an id not yet committed: a second publish of the id waits for the first. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly publishQueue: PendingPublish[] = [];
  private flushing: Promise<void> | undefined;
  private readonly durables = new Map<string, Durable>();
  /** Durable names a `consume` call is taking (between its check and its registration). */
  private readonly claiming = new Set<string>();
  /** Highest seq this process committed (or found at start). */
  private lastSeq: number;
  /** Rows with seq <= prunedUpTo are deleted. */
  private prunedUpTo = 0;
  private pruning = false;
  private closed = false;

  private constructor(options: OutboxBusOptions, lastSeq: number, durables: Map<string, Durable>) {
    this.store = options.store;
    this.windowMs = options.duplicateWindowMs ?? 120_000;
    this.maxIds = options.maxDuplicateIds ?? 500_000;
    this.maxGroupMessages = options.maxGroupMessages ?? 5000;
    this.maxGroupBytes = options.maxGroupBytes ?? 8 * 1024 * 1024;
    this.maxPending = options.maxPending ?? 20_000;
    this.pageSize = options.pageSize ?? 2000;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 100;
    this.abandonAfterMs = options.abandonAfterMs ?? 3_600_000;
    this.clock = options.clock ?? Date.now;
    this.onHandlerError = options.onHandlerError ?? (() => undefined);
    this.onError = options.onError ?? (() => undefined);
    this.openedAt = this.clock();
    this.lastSeq = lastSeq;
    this.durables = durables;
  }

  /** Reads where the log stands (last sequence, durable cursors) and returns the bus. */
  static async open(options: OutboxBusOptions): Promise<OutboxBus> {
    const { last, rows } = await options.store.tenantTransaction(null, async (tx) => {
      const max = await tx.query<{ last: string | null }>('SELECT max(seq)::text AS last FROM bus_outbox');
      const consumers = await tx.query<{ durable: string; filter_subject: string; acked_seq: string; seen_at: Date | string }>(
        'SELECT durable, filter_subject, acked_seq::text AS acked_seq, seen_at FROM bus_consumers',
      );
      return { last: toNumber(max.rows[0]?.last), rows: consumers.rows };
    });
    const durables = new Map<string, Durable>();
    for (const r of rows) {
      durables.set(r.durable, { filter: r.filter_subject, ackedSeq: toNumber(r.acked_seq), seenAt: new Date(r.seen_at).getTime(), active: undefined });
    }
    // prunedUpTo starts at 0: rows below every cursor, left by a crash between acknowledgement
    // and deletion, go with the first acknowledgement.
    return new OutboxBus(options, last, durables);
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    if (this.closed) throw new TimelineError('bus.closed', 'the bus is closed');
    const msgId = options.msgId;
    const first = this.inFlight.get(msgId);
    if (first) {
      await first;
      return { duplicate: true };
    }
    const now = this.clock();
    this.forgetExpired(now);
    if (this.seen.has(msgId)) return { duplicate: true };
    const committed = new Promise<void>((resolve, reject) => {
      this.publishQueue.push({ subject, msgId, data, resolve, reject });
    });
    this.inFlight.set(msgId, committed);
    this.flushing ??= this.flushLoop();
    try {
      await committed;
      this.seen.set(msgId, now);
    } finally {
      this.inFlight.delete(msgId);
    }
    return { duplicate: false };
  }

  async consume(options: ConsumeOptions): Promise<BusConsumer> {
    if (this.closed) throw new TimelineError('bus.closed', 'the bus is closed');
    let durable = this.durables.get(options.durable);
    if ((durable?.active && !durable.active.stopping) || this.claiming.has(options.durable)) {
      throw new TimelineError('bus.subject_invalid', `durable consumer "${options.durable}" is already being consumed`);
    }
    this.claiming.add(options.durable);
    let ackedSeq: number;
    try {
      await durable?.active?.done;
      const { rows } = await this.store.tenantTransaction(null, (tx) =>
        tx.query<{ acked_seq: string }>(
          `INSERT INTO bus_consumers (durable, filter_subject) VALUES ($1, $2)
           ON CONFLICT (durable) DO UPDATE SET filter_subject = EXCLUDED.filter_subject, seen_at = now()
           RETURNING acked_seq::text AS acked_seq`,
          [options.durable, options.filterSubject],
        ),
      );
      ackedSeq = toNumber(rows[0]?.acked_seq);
    } finally {
      this.claiming.delete(options.durable);
    }
    durable = this.durables.get(options.durable);
    if (!durable) {
      durable = { filter: options.filterSubject, ackedSeq, seenAt: this.clock(), active: undefined };
      this.durables.set(options.durable, durable);
    }
    durable.filter = options.filterSubject;
    durable.ackedSeq = ackedSeq;
    const consumer: Consumer = {
      durable: options.durable,
      filter: options.filterSubject,
      handler: options.handler,
      maxBatch: Math.max(1, options.maxBatch ?? 1000),
      queue: [],
      // Starts by reading the table from its cursor; goes live once it has caught up.
      live: false,
      seenUpTo: ackedSeq,
      stopping: false,
      wake: undefined,
      interrupt: undefined,
      done: Promise.resolve(),
    };
    durable.active = consumer;
    consumer.done = this.deliver(consumer, durable);
    return {
      stop: async () => {
        consumer.stopping = true;
        consumer.wake?.();
        consumer.interrupt?.();
        await consumer.done;
      },
    };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new TimelineError('bus.unavailable', 'the outbox bus is closed');
    try {
      await this.store.ping();
    } catch (cause) {
      throw new TimelineError('bus.unavailable', `the outbox's store does not answer: ${(cause as Error).message}`, undefined, { cause });
    }
  }

  /**
   * Stops accepting, lets publishes in flight commit, waits (up to `timeoutMs`, default 10 s)
   * for consumers to catch up, then stops them. Nothing is lost either way: what a consumer
   * did not acknowledge is read from the table when it starts again.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    const deadline = Date.now() + timeoutMs;
    const busy = (): boolean => [...this.durables.values()].some((d) => d.active && !d.active.stopping && (!d.active.live || d.active.queue.length > 0));
    while (Date.now() < deadline && busy()) await new Promise((resolve) => setTimeout(resolve, 10));
    const active = [...this.durables.values()].flatMap((d) => (d.active ? [d.active] : []));
    for (const c of active) {
      c.stopping = true;
      c.wake?.();
      c.interrupt?.();
    }
    await Promise.all(active.map((c) => c.done));
  }

  /** Messages waiting for `durable` in memory (for readiness and queue-depth metrics). */
  pending(durable: string): number {
    return this.durables.get(durable)?.active?.queue.length ?? 0;
  }

  /**
   * Messages of this process not yet done with, from memory: publishes waiting for their group
   * commit plus what every consumer holds (waiting, or in the batch in hand). The queue-depth
   * metric reads it on every scrape; `backlog()` counts the table instead.
   */
  depth(): number {
    let n = this.publishQueue.length;
    for (const d of this.durables.values()) n += d.active?.queue.length ?? 0;
    return n;
  }

  /** Rows in the log, i.e. not yet acknowledged by every consumer (for tests and metrics). */
  async backlog(): Promise<number> {
    return this.store.tenantTransaction(null, async (tx) => toNumber((await tx.query<{ n: string }>('SELECT count(*)::text AS n FROM bus_outbox')).rows[0]?.n));
  }

  // ---- publishing ---------------------------------------------------------------------------

  private async flushLoop(): Promise<void> {
    try {
      // Publishes issued in the same tick as this one (a request's events, an emitter's burst)
      // join the first group instead of following it in a second transaction.
      await Promise.resolve();
      while (this.publishQueue.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.publishQueue.length && n < this.maxGroupMessages && (n === 0 || bytes + this.publishQueue[n]!.data.byteLength <= this.maxGroupBytes)) {
          bytes += this.publishQueue[n]!.data.byteLength;
          n++;
        }
        const group = this.publishQueue.splice(0, n);
        let seqs: Map<string, number>;
        try {
          seqs = await this.insert(group);
        } catch (error) {
          const failure = publishError(error);
          for (const p of group) p.reject(failure);
          continue;
        }
        const entries: Entry[] = group.map((p) => ({
          seq: seqs.get(p.msgId)!,
          message: { subject: p.subject, id: p.msgId, data: p.data, deliveryCount: 1 },
        }));
        entries.sort((a, b) => a.seq - b.seq);
        this.lastSeq = Math.max(this.lastSeq, entries[entries.length - 1]!.seq);
        this.deliverLive(entries);
        for (const p of group) p.resolve();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * One transaction, one statement for the group. Rows take their sequence numbers in the order
   * `unnest` yields them; when the numbers came out contiguous (nobody else inserted meanwhile —
   * always so on the embedded engine) they are `first + i`, otherwise they are read back by id.
   */
  private async insert(group: readonly PendingPublish[]): Promise<Map<string, number>> {
    return this.store.tenantTransaction(null, async (tx) => {
      const { rows } = await tx.query<{ first: string; last: string; n: number }>(
        `WITH ins AS (
           INSERT INTO bus_outbox (subject, msg_id, data)
           SELECT s, m, decode(d, 'base64') FROM unnest($1::text[], $2::text[], $3::text[]) AS u(s, m, d)
           RETURNING seq)
         SELECT min(seq)::text AS first, max(seq)::text AS last, count(*)::int AS n FROM ins`,
        [group.map((p) => p.subject), group.map((p) => p.msgId), group.map((p) => asBuffer(p.data).toString('base64'))],
      );
      const first = toNumber(rows[0]?.first);
      const last = toNumber(rows[0]?.last);
      if (rows[0]?.n !== group.length) throw new Error(`the outbox stored ${rows[0]?.n ?? 0} rows for ${group.length} messages`);
      const seqs = new Map<string, number>();
      if (last - first + 1 === group.length) {
        group.forEach((p, i) => seqs.set(p.msgId, first + i));
        return seqs;
      }
      const back = await tx.query<{ seq_text: string; msg_id: string }>(
        'SELECT o.seq::text AS seq_text, o.msg_id FROM bus_outbox o WHERE o.seq BETWEEN $1 AND $2 AND o.msg_id = ANY($3::text[]) ORDER BY o.seq',
        [first, last, group.map((p) => p.msgId)],
      );
      // A message id published again after its window has older rows too: the newest one is this group's.
      for (const r of back.rows) seqs.set(r.msg_id, toNumber(r.seq_text));
      if (seqs.size !== group.length) throw new Error(`the outbox returned ${seqs.size} sequence numbers for ${group.length} messages`);
      return seqs;
    });
  }

  /** Hands freshly committed messages to live consumers; a consumer too far behind drops to reading the table. */
  private deliverLive(entries: readonly Entry[]): void {
    const top = entries[entries.length - 1]!.seq;
    for (const d of this.durables.values()) {
      const c = d.active;
      if (!c || !c.live || c.stopping) continue;
      let added = false;
      for (const e of entries) {
        if (e.seq > c.seenUpTo && subjectMatches(c.filter, e.message.subject)) {
          c.queue.push(e);
          added = true;
        }
      }
      c.seenUpTo = Math.max(c.seenUpTo, top);
      if (c.queue.length > this.maxPending) {
        // Keep the oldest maxPending in memory; the rest is read from the table later.
        c.queue.length = this.maxPending;
        c.seenUpTo = c.queue[c.queue.length - 1]!.seq;
        c.live = false;
      }
      if (added) c.wake?.();
    }
  }

  // ---- consuming ----------------------------------------------------------------------------

  private async deliver(c: Consumer, durable: Durable): Promise<void> {
    let failures = 0;
    try {
      while (!c.stopping) {
        if (!c.live && c.queue.length < c.maxBatch) {
          try {
            await this.readPage(c);
            failures = 0;
          } catch (error) {
            this.onError(error, `reading the outbox for durable consumer "${c.durable}"`);
            await this.pause(c, this.backoff(++failures));
          }
          if (!c.live && c.queue.length < c.maxBatch) continue;
        }
        if (c.queue.length === 0) {
          // Caught up past messages of other subjects only: save the cursor there too, so the log
          // is pruned behind a consumer that never receives anything (and a restart skips them).
          if (c.seenUpTo > durable.ackedSeq) {
            await this.acknowledged(c, durable, c.seenUpTo);
            if (c.stopping || c.queue.length > 0) continue;
          }
          await new Promise<void>((resolve) => {
            c.wake = resolve;
          });
          c.wake = undefined;
          continue;
        }
        const batch = c.queue.slice(0, c.maxBatch);
        try {
          await c.handler(batch.map((e) => e.message));
        } catch (error) {
          this.onHandlerError(error, batch.map((e) => e.message));
          for (let i = 0; i < batch.length; i++) {
            const e = c.queue[i]!;
            c.queue[i] = { seq: e.seq, message: { ...e.message, deliveryCount: e.message.deliveryCount + 1 } };
          }
          await this.pause(c, this.backoff(++failures));
          continue;
        }
        failures = 0;
        c.queue.splice(0, batch.length);
        await this.acknowledged(c, durable, batch[batch.length - 1]!.seq);
      }
    } finally {
      durable.active = undefined;
      durable.seenAt = this.clock();
    }
  }

  /** Reads the next page of the table for a consumer that is not live; goes live once caught up. */
  private async readPage(c: Consumer): Promise<void> {
    const limit = Math.max(this.pageSize, c.maxBatch);
    const from = c.seenUpTo;
    const { rows } = await this.store.tenantTransaction(null, (tx) =>
      tx.query<{ seq_text: string; subject: string; msg_id: string; data: Uint8Array }>(
        // Ordered by the bigint column (an output column named seq would sort as text).
        'SELECT o.seq::text AS seq_text, o.subject, o.msg_id, o.data FROM bus_outbox o WHERE o.seq > $1 ORDER BY o.seq LIMIT $2',
        [from, limit],
      ),
    );
    if (c.live || c.stopping) return;
    for (const r of rows) {
      const seq = toNumber(r.seq_text);
      if (seq <= c.seenUpTo) continue;
      if (subjectMatches(c.filter, r.subject)) c.queue.push({ seq, message: { subject: r.subject, id: r.msg_id, data: r.data, deliveryCount: 1 } });
      c.seenUpTo = seq;
    }
    // Caught up when the read came back short and no commit of this process went past it: from
    // here on (synchronously, before any later commit is handed out) new messages come from memory.
    if (rows.length < limit && this.lastSeq <= c.seenUpTo) c.live = true;
  }

  /** Saves the cursor and deletes rows every durable consumer has acknowledged. Failures are retried with the next acknowledgement. */
  private async acknowledged(c: Consumer, durable: Durable, seq: number): Promise<void> {
    durable.ackedSeq = Math.max(durable.ackedSeq, seq);
    durable.seenAt = this.clock();
    const { watermark, abandoned } = this.watermark();
    const prune = !this.pruning && watermark > this.prunedUpTo;
    if (prune) this.pruning = true;
    try {
      await this.store.tenantTransaction(null, async (tx) => {
        await tx.query('UPDATE bus_consumers SET acked_seq = GREATEST(acked_seq, $2), seen_at = now() WHERE durable = $1', [c.durable, durable.ackedSeq]);
        if (prune) await tx.query('DELETE FROM bus_outbox WHERE seq <= $1', [watermark]);
        if (abandoned.length > 0) await tx.query('DELETE FROM bus_consumers WHERE durable = ANY($1::text[])', [abandoned]);
      });
      if (prune) this.prunedUpTo = Math.max(this.prunedUpTo, watermark);
      for (const name of abandoned) if (!this.durables.get(name)?.active) this.durables.delete(name);
    } catch (error) {
      this.onError(error, `saving the cursor of durable consumer "${c.durable}"`);
    } finally {
      if (prune) this.pruning = false;
    }
  }

  /**
   * The highest seq every durable consumer has acknowledged everything up to. A live consumer
   * with nothing in hand has acknowledged all that was committed; a stopped one, its saved
   * cursor — unless nobody consumed under its name for `abandonAfterMs`.
   */
  private watermark(): { watermark: number; abandoned: string[] } {
    const now = this.clock();
    let watermark = this.lastSeq;
    const abandoned: string[] = [];
    for (const [name, d] of this.durables) {
      const c = d.active;
      let upTo: number;
      if (c) upTo = c.queue.length > 0 ? c.queue[0]!.seq - 1 : c.live ? this.lastSeq : c.seenUpTo;
      else if (now - Math.max(d.seenAt, this.openedAt) > this.abandonAfterMs) {
        abandoned.push(name);
        continue;
      } else upTo = d.ackedSeq;
      watermark = Math.min(watermark, upTo);
    }
    return { watermark, abandoned };
  }

  private backoff(failures: number): number {
    return Math.min(5000, this.redeliveryDelayMs * 2 ** Math.min(16, failures - 1));
  }

  private async pause(c: Consumer, ms: number): Promise<void> {
    if (c.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      c.interrupt = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    c.interrupt = undefined;
  }

  private forgetExpired(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size <= this.maxIds) break;
      this.seen.delete(id);
    }
  }
}
