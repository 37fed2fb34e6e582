/**
 * The scale-out bus: NATS JetStream. One stream holds every tenant's timeline, SLO-breach and
 * incident-mode subjects; publishes carry `Nats-Msg-Id` (the event id) so the stream drops
 * duplicates inside its window; consumers are durable pull consumers with explicit acks, and
 * a batch is acknowledged only after its handler resolved (the indexer: after commit).
 *
 * Redelivery is bounded: consumers carry `max_deliver` and a `backoff` (for batches whose
 * acknowledgement never came), and a rejected batch is negatively acknowledged with a growing
 * delay. Each delivered message tells its handler `deliveryCount` and `maxDeliveries`, so a
 * handler sets aside what it still cannot process on the last delivery (the timeline indexer
 * quarantines it) instead of the message silently leaving the consumer.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { TimelineError, streamSubjects, type Bus, type BusConsumer, type BusMessage, type ConsumeOptions, type PublishOptions, type PublishResult } from '@stellaops/telemetry-core';

export interface NatsJetStreamBusOptions {
  /** Server URL(s), comma-separated. */
  servers: string;
  /** Stream name. Default `STELLA`. */
  stream?: string;
  /** Subject prefix. Default `stella`. */
  subjectPrefix?: string;
  /** De-duplication window in ms. Default 120000. */
  duplicateWindowMs?: number;
  /** Unacknowledged messages a consumer may hold. Default 20000. */
  maxAckPending?: number;
  /** Time before an unacknowledged message is redelivered, in ms. Default 30000. */
  ackWaitMs?: number;
  /** Deliveries of one message before the consumer gives up on it (`max_deliver`). Default 20. */
  maxDeliver?: number;
  /**
   * Waits before redelivering a message whose acknowledgement did not come (`backoff`), by
   * delivery, in ms; the first is the ack wait. Default 1, 2, 4 and 10 times the ack wait (30 s,
   * 1 min, 2 min, 5 min), cut to maxDeliver - 1 entries (the server requires fewer entries than
   * deliveries).
   */
  backoffMs?: readonly number[];
  /**
   * Delays before redelivering a batch whose handler rejected, by delivery (the last repeats).
   * Default 1 s, 5 s, 15 s, 30 s, 1 min, 2 min, then 5 min: with 20 deliveries a store outage of
   * about an hour is ridden out before messages reach their last delivery.
   */
  redeliveryDelaysMs?: readonly number[];
  /** Connection name shown by the server. Default `stella-observability`. */
  name?: string;
  /** Called when a handler rejects (the batch is then redelivered). Default: ignore. */
  onHandlerError?: (error: unknown, batch: readonly BusMessage[]) => void;
}

const DEFAULT_REDELIVERY_DELAYS_MS = [1000, 5000, 15_000, 30_000, 60_000, 120_000, 300_000];

function unavailable(message: string, cause: unknown): TimelineError {
  return new TimelineError('bus.unavailable', `${message}: ${(cause as Error)?.message ?? String(cause)}`, undefined, { cause });
}

export class NatsJetStreamBus implements Bus {
  readonly kind = 'nats-jetstream' as const;
  private readonly consumers = new Set<BusConsumer>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    readonly stream: string,
    private readonly options: NatsJetStreamBusOptions,
  ) {}

  /** Connects and creates (or updates) the stream. */
  static async connect(options: NatsJetStreamBusOptions): Promise<NatsJetStreamBus> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.servers.split(',').map((s) => s.trim()), name: options.name ?? 'stella-observability', timeout: 5000 });
    } catch (cause) {
      throw unavailable(`cannot connect to NATS at ${options.servers}`, cause);
    }
    try {
      const jsm = await jetstreamManager(nc);
      const stream = options.stream ?? 'STELLA';
      const config = {
        name: stream,
        subjects: streamSubjects(options.subjectPrefix),
        duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
      };
      try {
        await jsm.streams.info(stream);
        await jsm.streams.update(stream, { subjects: config.subjects, duplicate_window: config.duplicate_window });
      } catch (error) {
        if (!/stream not found/i.test(String((error as Error).message))) throw error;
        await jsm.streams.add(config);
      }
      return new NatsJetStreamBus(nc, jsm, jetstream(nc), stream, options);
    } catch (cause) {
      await nc.close().catch(() => undefined);
      throw unavailable('cannot set up the JetStream stream', cause);
    }
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    if (this.nc.isClosed() || this.nc.isDraining()) throw new TimelineError('bus.closed', 'the NATS connection is closed');
    try {
      const ack = await this.js.publish(subject, data, { msgID: options.msgId });
      return { duplicate: ack.duplicate };
    } catch (cause) {
      throw new TimelineError('bus.publish_failed', `JetStream did not accept the message: ${(cause as Error).message}`, undefined, { cause });
    }
  }

  /** The `max_deliver` of consumers this bus creates. */
  get maxDeliver(): number {
    return this.options.maxDeliver ?? 20;
  }

  async consume(options: ConsumeOptions): Promise<BusConsumer> {
    const maxBatch = options.maxBatch ?? 1000;
    const maxDeliver = this.maxDeliver;
    if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new TimelineError('bus.subject_invalid', 'maxDeliver must be a positive integer');
    const ackWaitMs = this.options.ackWaitMs ?? 30_000;
    const backoffMs = (this.options.backoffMs ?? [1, 2, 4, 10].map((k) => k * ackWaitMs)).slice(0, maxDeliver - 1);
    const redeliveryDelays = this.options.redeliveryDelaysMs?.length ? this.options.redeliveryDelaysMs : DEFAULT_REDELIVERY_DELAYS_MS;
    const settings = {
      filter_subject: options.filterSubject,
      max_ack_pending: Math.max(this.options.maxAckPending ?? 20_000, maxBatch * 2),
      // With a backoff the server waits backoff[0] for the first acknowledgement.
      ack_wait: nanos(backoffMs[0] ?? ackWaitMs),
      max_deliver: maxDeliver,
      ...(backoffMs.length > 0 ? { backoff: backoffMs.map((ms) => nanos(ms)) } : {}),
    };
    try {
      await this.jsm.consumers.add(this.stream, { durable_name: options.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...settings });
    } catch (error) {
      // Servers that refuse to change a durable through "create" take an update instead.
      if (!/already exists|already in use/i.test(String((error as Error).message))) throw error;
      await this.jsm.consumers.update(this.stream, options.durable, settings);
    }
    const consumer = await this.js.consumers.get(this.stream, options.durable);
    const messages = await consumer.consume({ max_messages: Math.min(maxBatch * 2, 10_000) });

    // Group commit: while a batch is being handled, arrivals accumulate; the next batch takes
    // them all (up to maxBatch). Low traffic gives small batches and low latency, high traffic
    // large batches, without timers.
    const buffer: JsMsg[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let stopping = false;
    const reader = (async () => {
      try {
        for await (const m of messages) {
          buffer.push(m);
          wake?.();
        }
      } finally {
        ended = true;
        wake?.();
      }
    })();
    const onError = this.options.onHandlerError ?? (() => undefined);
    const handleBatch = async (taken: JsMsg[]): Promise<void> => {
      const batch: BusMessage[] = taken.map((m) => ({
        subject: m.subject,
        id: m.headers?.get('Nats-Msg-Id') ?? `${this.stream}:${m.seq}`,
        data: m.data,
        deliveryCount: m.info.deliveryCount,
        maxDeliveries: maxDeliver,
      }));
      try {
        await options.handler(batch);
        for (const m of taken) m.ack();
      } catch (error) {
        onError(error, batch);
        const exhausted = taken.filter((m) => m.info.deliveryCount >= maxDeliver);
        if (exhausted.length > 0) {
          onError(
            new Error(
              `${exhausted.length} message(s) of durable "${options.durable}" reached max_deliver (${maxDeliver}) and will not be delivered again; ` +
                `the handler was told it was the last delivery; they stay in stream ${this.stream} at sequence(s) ${exhausted.slice(0, 20).map((m) => m.seq).join(', ')}`,
              { cause: error },
            ),
            batch.filter((b, i) => taken[i]!.info.deliveryCount >= maxDeliver),
          );
        }
        const first = taken[0]?.info.deliveryCount ?? 1;
        const delay = redeliveryDelays[Math.min(redeliveryDelays.length - 1, first - 1)]!;
        for (const m of taken) m.nak(delay);
      }
    };
    const worker = (async () => {
      while (true) {
        if (buffer.length === 0) {
          if (ended || stopping) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        await handleBatch(buffer.splice(0, maxBatch));
      }
    })();
    const handle: BusConsumer = {
      stop: async () => {
        stopping = true;
        // Stop pulling; messages already buffered but not handled are left unacknowledged and
        // are redelivered to the durable consumer after ack_wait (or at once to a new pull).
        await messages.close().catch(() => undefined);
        wake?.();
        await reader.catch(() => undefined);
        // Finish the batch in hand (it is acknowledged), drop the rest back to the server —
        // except messages on their last delivery: given back, they would never be delivered
        // again, so the handler gets them now.
        const leftovers = buffer.splice(0);
        await worker;
        const last = leftovers.filter((m) => m.info.deliveryCount >= maxDeliver);
        for (let i = 0; i < last.length; i += maxBatch) await handleBatch(last.slice(i, i + maxBatch));
        // An explicit delay: a bare NAK would wait the consumer's backoff.
        for (const m of leftovers) if (m.info.deliveryCount < maxDeliver) m.nak(1);
        await this.nc.flush().catch(() => undefined);
        this.consumers.delete(handle);
      },
    };
    this.consumers.add(handle);
    return handle;
  }

  async ping(): Promise<void> {
    try {
      await this.nc.flush();
      await this.jsm.streams.info(this.stream);
    } catch (cause) {
      throw unavailable('NATS JetStream does not answer', cause);
    }
  }

  /** Stops consumers (finishing batches in hand), then drains the connection. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }

  /** Deletes the stream (tests and benchmarks that made their own). */
  async deleteStream(): Promise<void> {
    await this.jsm.streams.delete(this.stream);
  }
}
