/**
 * TL-2: consumes every tenant's timeline subjects and stores the events idempotently under
 * RLS. A batch is acknowledged only after its transactions committed, and a redelivered or
 * duplicated event hits `ON CONFLICT DO NOTHING`, so each event is stored exactly once.
 * Messages that can never be stored (bad JSON, wrong digest, a tenant that is not the one in
 * the subject) are logged and acknowledged, so one poison message cannot stall a tenant.
 */
import { decodeTimelineEvent, tenantOfSubject, timelineFilterSubject, type Bus, type BusConsumer, type BusMessage, type Logger, type TimelineEvent } from '@stellaops/telemetry-core';
import type { TimelineRepository } from './timeline-repository.js';

export interface TimelineIndexerOptions {
  bus: Bus;
  repository: TimelineRepository;
  logger: Logger;
  /** Durable consumer name. Default `stella-timeline-indexer`. */
  durable?: string;
  /** Subject prefix. Default `stella`. */
  subjectPrefix?: string;
  /** Largest batch per commit. Default 2000. */
  maxBatch?: number;
}

export interface IndexerStats {
  /** Events newly stored. */
  stored: number;
  /** Events received again (redelivery or duplicate publish) and skipped. */
  duplicates: number;
  /** Messages that could not be stored and were dropped. */
  rejected: number;
}

export class TimelineIndexer {
  readonly stats: IndexerStats = { stored: 0, duplicates: 0, rejected: 0 };
  private consumer: BusConsumer | undefined;
  private readonly prefix: string;

  constructor(private readonly options: TimelineIndexerOptions) {
    this.prefix = options.subjectPrefix ?? 'stella';
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.options.bus.consume({
      durable: this.options.durable ?? 'stella-timeline-indexer',
      filterSubject: timelineFilterSubject(this.prefix),
      maxBatch: this.options.maxBatch ?? 2000,
      handler: (batch) => this.handle(batch),
    });
  }

  /** Finishes the batch in hand (committed and acknowledged), then stops consuming. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  private async handle(batch: readonly BusMessage[]): Promise<void> {
    const byTenant = new Map<string, TimelineEvent[]>();
    for (const message of batch) {
      const event = this.decode(message);
      if (!event) continue;
      let list = byTenant.get(event.tenant_id);
      if (!list) byTenant.set(event.tenant_id, (list = []));
      list.push(event);
    }
    for (const [tenant, events] of byTenant) {
      const stored = await this.options.repository.insertBatch(tenant, events);
      this.stats.stored += stored;
      this.stats.duplicates += events.length - stored;
    }
  }

  private decode(message: BusMessage): TimelineEvent | undefined {
    try {
      const event = decodeTimelineEvent(message.data);
      const subjectTenant = tenantOfSubject(message.subject, this.prefix);
      if (subjectTenant !== event.tenant_id || !message.subject.endsWith(`.timeline.${event.kind}`)) {
        throw new Error(`event of tenant "${event.tenant_id}" and kind "${event.kind}" arrived on a subject for another tenant or kind`);
      }
      return event;
    } catch (error) {
      this.stats.rejected++;
      this.options.logger.warn(
        { error_code: (error as { code?: string }).code ?? 'timeline.event_invalid', error_message: (error as Error).message, details: { subject: message.subject, msg_id: message.id } },
        'timeline indexer dropped a message it cannot store',
      );
      return undefined;
    }
  }
}
