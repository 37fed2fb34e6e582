/**
 * TL-2: consumes every tenant's timeline subjects and stores the events idempotently under
 * RLS. A batch is acknowledged only after its transactions committed, and a redelivered or
 * duplicated event hits `ON CONFLICT DO NOTHING`, so each event is stored exactly once.
 *
 * Poison never blocks the line (STO-5). A message that cannot be stored — it does not decode,
 * its digest is wrong, it arrived on another tenant's subject, or the database refuses it
 * (SQLSTATE class 22/23/54: the batch is split until the refused events are isolated) — is
 * moved to the tenant's quarantine with the reason and the message as received, and the batch
 * is acknowledged: every storable event beside it, of this tenant or another, is stored. Only
 * a store that cannot be reached fails the batch, which the bus then redelivers. When the bus
 * bounds redelivery (JetStream `max_deliver`), a message on its last delivery is quarantined
 * instead of failing once more, so it is never dropped silently.
 */
import {
  decodeTimelineEvent,
  isValidTenantId,
  tenantOfSubject,
  timelineFilterSubject,
  type Bus,
  type BusConsumer,
  type BusMessage,
  type Logger,
  type TimelineEvent,
} from '@stellaops/telemetry-core';
import type { Quarantine, QuarantineEntry } from '../ingest/quarantine.js';
import type { HistogramPoint } from '../self/service-metrics.js';
import { describeStoreError, isRecordRejection, sqlState } from '../store/sql-errors.js';
import type { TimelineRepository } from './timeline-repository.js';

export interface TimelineIndexerOptions {
  bus: Bus;
  repository: TimelineRepository;
  logger: Logger;
  /** Where unstorable messages go (STO-5). Without one they are logged, counted and dropped. */
  quarantine?: Quarantine;
  /** Durable consumer name. Default `stella-timeline-indexer`. */
  durable?: string;
  /** Subject prefix. Default `stella`. */
  subjectPrefix?: string;
  /** Largest batch per commit. Default 2000. */
  maxBatch?: number;
  /** Ingest lag: seconds from each stored event's time to its commit (`stella_timeline_ingest_lag_seconds`). Default: not measured. */
  lag?: HistogramPoint;
  /** Clock for the lag. Default `Date.now`. */
  clock?: () => number;
}

export interface IndexerStats {
  /** Events newly stored. */
  stored: number;
  /** Events received again (redelivery or duplicate publish) and skipped. */
  duplicates: number;
  /** Messages that could not be stored where they belong (quarantined or, without a tenant, only logged). */
  rejected: number;
  /** Of the rejected messages, those written to the quarantine. */
  quarantined: number;
}

/** Quarantine reasons of the timeline (stable codes, shown by the quarantine API). */
export const TIMELINE_QUARANTINE_REASONS = {
  /** The database refused the event (the entry's error carries its SQLSTATE and message). */
  storeRejected: 'timeline.store_rejected',
  /** The message is not a valid event (bad JSON, a field out of rules). */
  eventInvalid: 'timeline.event_invalid',
  /** The digest does not match the event. */
  digestMismatch: 'timeline.digest_mismatch',
  /** The event names another tenant or kind than the subject it arrived on. */
  subjectMismatch: 'timeline.subject_mismatch',
  /** The bus delivered the message for the last time and the store still could not be reached. */
  deliveryExhausted: 'timeline.delivery_exhausted',
} as const;

interface Decoded {
  message: BusMessage;
  event: TimelineEvent;
}

interface Unstorable {
  message: BusMessage;
  /** The tenant the subject names, when it is a valid tenant id. */
  tenant: string | undefined;
  reason: string;
  error: string;
}

const isLastDelivery = (m: BusMessage): boolean => m.maxDeliveries !== undefined && m.deliveryCount >= m.maxDeliveries;

export class TimelineIndexer {
  readonly stats: IndexerStats = { stored: 0, duplicates: 0, rejected: 0, quarantined: 0 };
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

  /** Stores a batch; resolves when every message is stored or quarantined, rejects only when the store is unreachable. */
  async handle(batch: readonly BusMessage[]): Promise<void> {
    const unstorable: Unstorable[] = [];
    const byTenant = new Map<string, Decoded[]>();
    for (const message of batch) {
      const decoded = this.decode(message);
      if ('reason' in decoded) {
        unstorable.push(decoded);
        continue;
      }
      let list = byTenant.get(decoded.event.tenant_id);
      if (!list) byTenant.set(decoded.event.tenant_id, (list = []));
      list.push(decoded);
    }

    // Every tenant gets its turn even when another's store call fails.
    let failure: { error: unknown } | undefined;
    const unstored: Decoded[] = [];
    for (const [tenant, items] of byTenant) {
      try {
        const { stored, refused } = await this.options.repository.insertIsolating(
          tenant,
          items.map((i) => i.event),
        );
        this.stats.stored += stored;
        this.stats.duplicates += items.length - refused.length - stored;
        this.measureLag(items, refused.map((r) => r.index));
        for (const r of refused) {
          unstorable.push({ message: items[r.index]!.message, tenant, reason: TIMELINE_QUARANTINE_REASONS.storeRejected, error: describeStoreError(r.error) });
        }
      } catch (error) {
        failure ??= { error };
        unstored.push(...items);
      }
    }

    if (!failure) {
      await this.setAside(unstorable);
      return;
    }
    // The batch will be redelivered, and everything in it looked at again — except messages on
    // their last delivery, which the bus will not deliver again: those are set aside now.
    const exhausted = unstored.filter((d) => isLastDelivery(d.message));
    const lastOnes = [
      ...unstorable.filter((u) => isLastDelivery(u.message)),
      ...exhausted.map((d) => ({
        message: d.message,
        tenant: d.event.tenant_id,
        reason: TIMELINE_QUARANTINE_REASONS.deliveryExhausted,
        error: `not stored after ${d.message.deliveryCount} deliveries, the most the bus makes: ${describeStoreError(failure.error)}`,
      })),
    ];
    await this.setAside(lastOnes);
    if (exhausted.length === unstored.length && lastOnes.length === unstorable.length + exhausted.length) return;
    throw failure.error;
  }

  /** Records the lag of every event of a committed batch, refused ones aside. */
  private measureLag(items: readonly Decoded[], refused: readonly number[]): void {
    const lag = this.options.lag;
    if (!lag) return;
    const now = (this.options.clock ?? Date.now)();
    const skip = new Set(refused);
    items.forEach((item, i) => {
      const at = Date.parse(item.event.ts);
      if (!skip.has(i) && Number.isFinite(at)) lag.record(Math.max(0, now - at) / 1000);
    });
  }

  private decode(message: BusMessage): Decoded | Unstorable {
    try {
      const event = decodeTimelineEvent(message.data);
      const subjectTenant = tenantOfSubject(message.subject, this.prefix);
      if (subjectTenant !== event.tenant_id || !message.subject.endsWith(`.timeline.${event.kind}`)) {
        return this.unstorable(
          message,
          TIMELINE_QUARANTINE_REASONS.subjectMismatch,
          `event of tenant "${event.tenant_id}" and kind "${event.kind}" arrived on a subject for another tenant or kind`,
        );
      }
      return { message, event };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason = code === 'timeline.digest_mismatch' ? TIMELINE_QUARANTINE_REASONS.digestMismatch : TIMELINE_QUARANTINE_REASONS.eventInvalid;
      const field = (error as { field?: string }).field;
      return this.unstorable(message, reason, `${field ? `${field}: ` : ''}${(error as Error).message}`);
    }
  }

  private unstorable(message: BusMessage, reason: string, error: string): Unstorable {
    const tenant = tenantOfSubject(message.subject, this.prefix);
    return { message, tenant: isValidTenantId(tenant) ? tenant : undefined, reason, error };
  }

  /** Quarantines what can be attributed to a tenant; logs and counts the rest. */
  private async setAside(items: readonly Unstorable[]): Promise<void> {
    if (items.length === 0) return;
    const byTenant = new Map<string, QuarantineEntry[]>();
    for (const item of items) {
      this.stats.rejected++;
      if (!item.tenant || !this.options.quarantine) {
        this.options.logger.warn(
          {
            ...(item.tenant ? { tenant_id: item.tenant } : {}),
            error_code: item.reason,
            error_message: item.error.slice(0, 500),
            details: { subject: item.message.subject.slice(0, 300), msg_id: item.message.id.slice(0, 200), delivery: item.message.deliveryCount },
          },
          item.tenant ? 'timeline indexer dropped a message it cannot store (no quarantine configured)' : 'timeline indexer dropped a message it cannot store or attribute to a tenant',
        );
        if (item.tenant) this.options.quarantine?.count(item.tenant, 'timeline', item.reason);
        continue;
      }
      let entries = byTenant.get(item.tenant);
      if (!entries) byTenant.set(item.tenant, (entries = []));
      entries.push({ signal: 'timeline', reason: item.reason, error: item.error, source: `bus:${item.message.subject}#${item.message.id}`, payload: item.message.data });
    }
    for (const [tenant, entries] of byTenant) {
      try {
        await this.options.quarantine!.add(tenant, entries);
        this.stats.quarantined += entries.length;
      } catch (error) {
        // The quarantine stores any bytes and text; if even it refuses, keeping the line moving
        // wins: log and count. An unreachable store fails the batch (redelivered).
        if (!isRecordRejection(error)) throw error;
        for (const e of entries) this.options.quarantine!.count(tenant, 'timeline', e.reason);
        this.options.logger.error(
          { tenant_id: tenant, error_code: 'timeline.quarantine_refused', error_message: describeStoreError(error).slice(0, 500), details: { entries: entries.length, sqlstate: sqlState(error) } },
          'the quarantine refused entries; the messages were dropped',
        );
      }
    }
  }
}
