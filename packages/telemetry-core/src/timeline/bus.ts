/**
 * The message bus seam (ARCHITECTURE "seams"): in-process for one machine, NATS JetStream at
 * scale. Delivery is at-least-once with publisher-side de-duplication by message id inside a
 * window; consumers make processing idempotent (the indexer inserts with ON CONFLICT DO NOTHING)
 * and the pair gives exactly-once storage.
 */
export interface BusMessage {
  readonly subject: string;
  /** The publisher's message id (the event id for timeline events). */
  readonly id: string;
  readonly data: Uint8Array;
  /** 1 on first delivery, higher on redelivery. */
  readonly deliveryCount: number;
  /**
   * The most times the bus delivers this message (JetStream's `max_deliver`); absent when the
   * bus redelivers without bound. When `deliveryCount` reaches it, a rejected batch is not
   * delivered again: a consumer keeps what it cannot process somewhere else (a quarantine).
   */
  readonly maxDeliveries?: number;
}

export interface PublishOptions {
  /** De-duplication id: a second publish with the same id inside the window is dropped. */
  msgId: string;
}

export interface PublishResult {
  /** True when the bus recognised `msgId` and dropped this copy. */
  duplicate: boolean;
}

/** Receives a batch; resolving acknowledges every message in it, rejecting redelivers them all. */
export type BatchHandler = (batch: readonly BusMessage[]) => Promise<void>;

export interface ConsumeOptions {
  /** Durable consumer name: a consumer that stops and starts again resumes where it left off. */
  durable: string;
  /** Subject filter with NATS wildcards, e.g. `stella.*.timeline.>`. */
  filterSubject: string;
  handler: BatchHandler;
  /** Largest batch handed to `handler`. Default 1000. */
  maxBatch?: number;
}

export interface BusConsumer {
  /** Finishes the batch in hand (and acknowledges it), then stops delivering. */
  stop(): Promise<void>;
}

export interface Bus {
  readonly kind: 'in-process' | 'nats-jetstream';
  /** Resolves once the bus has accepted the message (JetStream: stored in the stream). */
  publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult>;
  consume(options: ConsumeOptions): Promise<BusConsumer>;
  /** Resolves when the bus is reachable; rejects with a `bus.unavailable` TimelineError otherwise. */
  ping(): Promise<void>;
  /** Drains: lets consumers finish what was delivered, then releases connections. */
  close(): Promise<void>;
}
