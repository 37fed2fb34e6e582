/**
 * The audit trail (AUTH-4): every privileged change is recorded as an `audit.*` timeline event
 * that commits with the change it describes, then is told to the bus for other consumers.
 * `record` is the one way to do it: the change and its events run in one transaction as the
 * tenant (so a change without its audit event, or an audit event for a change that rolled
 * back, cannot happen), and once committed the events are published. The stored copy is the
 * record: a failed publish is logged and counted, never turned into a failed request; the
 * indexer stores bus events idempotently by id, so the later delivery is a no-op.
 */
import type { Logger, TimelineEmitter, TimelineEvent, TimelineEventInput } from '@stellaops/telemetry-core';
import type { SqlStore, SqlTx } from '../store/sql-store.js';
import { insertTimelineEvents } from './timeline-repository.js';

/** Builds an event from `input` and the request context, stores it in the change's transaction. */
export type AuditWrite = (input: Omit<TimelineEventInput, 'tenant_id'>) => Promise<TimelineEvent>;

export interface AuditTrailOptions {
  store: SqlStore;
  emitter: TimelineEmitter;
  logger: Logger;
}

export class AuditTrail {
  /** Events stored but not published on the bus (the bus was unavailable). */
  unpublished = 0;

  constructor(private readonly options: AuditTrailOptions) {}

  /**
   * Runs `change` in one transaction as `tenant`; every `audit(...)` it calls stores an event of
   * `tenant` in that transaction. After the commit the events are published, in order.
   */
  async record<T>(tenant: string, change: (tx: SqlTx, audit: AuditWrite) => Promise<T>): Promise<T> {
    const events: TimelineEvent[] = [];
    const result = await this.options.store.tenantTransaction(tenant, (tx) =>
      change(tx, async (input) => {
        const event = this.options.emitter.build({ ...input, tenant_id: tenant });
        await insertTimelineEvents(tx, tenant, [event]);
        events.push(event);
        return event;
      }),
    );
    for (const event of events) await this.publish(event);
    return result;
  }

  /** Records an audit event that describes no change of its own (an export, a replay, a refusal). */
  async event(tenant: string, input: Omit<TimelineEventInput, 'tenant_id'>): Promise<TimelineEvent> {
    return this.record(tenant, (_tx, audit) => audit(input));
  }

  private async publish(event: TimelineEvent): Promise<void> {
    const published = await this.options.emitter.publish(event);
    if (!published.ok) {
      this.unpublished++;
      this.options.logger.warn(
        { error_code: published.error.code, tenant_id: event.tenant_id, details: { event_id: event.event_id, kind: event.kind } },
        'audit event stored but not published on the bus; consumers of the bus miss it until it is re-sent',
      );
    }
  }
}
