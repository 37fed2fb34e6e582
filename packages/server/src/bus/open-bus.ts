/**
 * Picks the bus from configuration: a NATS URL selects JetStream; none the embedded bus, which
 * keeps its messages in the service's SQL store (an outbox) so an acknowledged publish
 * survives a crash.
 */
import type { Bus, BusMessage } from '@stellaops/telemetry-core';
import type { SqlStore } from '../store/sql-store.js';
import { NatsJetStreamBus } from './nats-jetstream-bus.js';
import { OutboxBus } from './outbox-bus.js';

export interface OpenBusOptions {
  natsUrl?: string | undefined;
  stream: string;
  subjectPrefix: string;
  /** The service's store: the embedded bus's durable log lives in it. */
  store: SqlStore;
  onHandlerError?: (error: unknown, batch: readonly BusMessage[]) => void;
  /** Background failures of the embedded bus (it retries them). */
  onError?: (error: unknown, what: string) => void;
}

export async function openBus(options: OpenBusOptions): Promise<Bus> {
  if (options.natsUrl) {
    return NatsJetStreamBus.connect({
      servers: options.natsUrl,
      stream: options.stream,
      subjectPrefix: options.subjectPrefix,
      onHandlerError: options.onHandlerError,
    });
  }
  return OutboxBus.open({ store: options.store, onHandlerError: options.onHandlerError, onError: options.onError });
}
