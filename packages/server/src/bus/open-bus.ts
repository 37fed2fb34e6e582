/** Picks the bus from configuration: a NATS URL selects JetStream, none the in-process bus. */
import { InProcessBus, type Bus, type BusMessage } from '@stellaops/telemetry-core';
import { NatsJetStreamBus } from './nats-jetstream-bus.js';

export interface OpenBusOptions {
  natsUrl?: string | undefined;
  stream: string;
  subjectPrefix: string;
  onHandlerError?: (error: unknown, batch: readonly BusMessage[]) => void;
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
  return new InProcessBus({ onHandlerError: options.onHandlerError });
}
