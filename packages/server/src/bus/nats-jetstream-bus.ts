/**
 * The scale-out bus: NATS JetStream. One stream holds every tenant's timeline, SLO-breach and
 * incident-mode subjects; publishes carry `Nats-Msg-Id` (the event id) so the stream drops
 * duplicates inside its window; consumers are durable pull consumers with explicit acks, and
 * a batch is acknowledged only after its handler resolved (the indexer: after commit).
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
  /** Connection name shown by the server. Default `stella-observability`. */
  name?: string;
  /** Called when a handler rejects (the batch is then redelivered). Default: ignore. */
  onHandlerError?: (error: unknown, batch: readonly BusMessage[]) => void;
}

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

  async consume(options: ConsumeOptions): Promise<BusConsumer> {
    const maxBatch = options.maxBatch ?? 1000;
    await this.jsm.consumers.add(this.stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: options.filterSubject,
      max_ack_pending: Math.max(this.options.maxAckPending ?? 20_000, maxBatch * 2),
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
    });
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
    const worker = (async () => {
      while (true) {
        if (buffer.length === 0) {
          if (ended || stopping) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const taken = buffer.splice(0, maxBatch);
        const batch: BusMessage[] = taken.map((m) => ({
          subject: m.subject,
          id: m.headers?.get('Nats-Msg-Id') ?? `${this.stream}:${m.seq}`,
          data: m.data,
          deliveryCount: m.info.deliveryCount,
        }));
        try {
          await options.handler(batch);
          for (const m of taken) m.ack();
        } catch (error) {
          onError(error, batch);
          const delay = Math.min(5000, 100 * 2 ** Math.min(6, (taken[0]?.info.deliveryCount ?? 1) - 1));
          for (const m of taken) m.nak(delay);
        }
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
        // Finish the batch in hand (it is acknowledged), drop the rest back to the server.
        const leftovers = buffer.splice(0);
        await worker;
        for (const m of leftovers) m.nak();
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
