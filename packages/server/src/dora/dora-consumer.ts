/**
 * DORA-1 over the bus: the Release Orchestrator publishes each deployment it completes (a
 * promotion or a rollback) on `<prefix>.<tenant>.release.deployment` and each incident as it
 * opens, is acknowledged and is resolved on `<prefix>.<tenant>.release.incident`, as JSON of the
 * same shape as `POST /dora/deployments` and `PUT /dora/incidents/{id}` (the incident with its
 * `incident_id`). The tenant is the subject's.
 *
 * Built like the other consumers of the service: durable (`stella-dora-deployments`,
 * `stella-dora-incidents`: a restart resumes where it stopped), idempotent (a deployment
 * recorded again is a no-op; an incident is an upsert, so a redelivered batch applies the same
 * states in the same order), and a message that cannot be recorded — not JSON, a field out of
 * rules, a deployment id already recorded with other content, a record the database refuses — is
 * quarantined for its tenant (signal `release`, with the reason and the message as received) and
 * the batch acknowledged: it never blocks the messages behind it. Only a store that cannot be
 * reached fails the batch, which the bus redelivers; on its last delivery a message is
 * quarantined instead. No error leaves the handler other than that rejection.
 */
import {
  isValidTenantId,
  releaseDeploymentFilterSubject,
  releaseIncidentFilterSubject,
  tenantOfSubject,
  type Bus,
  type BusConsumer,
  type BusMessage,
  type Logger,
} from '@stellaops/telemetry-core';
import { ServiceError } from '../errors.js';
import type { Quarantine, QuarantineEntry } from '../ingest/quarantine.js';
import { describeStoreError, isRecordRejection } from '../store/sql-errors.js';
import { DoraInputError } from './dora-records.js';
import type { DoraService } from './dora-service.js';

/** Quarantine reasons of the DORA consumer (stable codes, shown by `GET /telemetry/quarantine`). */
export const DORA_QUARANTINE_REASONS = {
  /** Not JSON, not an object, or a field out of rules (the error names it). */
  recordInvalid: 'dora.record_invalid',
  /** A deployment id already recorded with other content. */
  deploymentConflict: 'dora.deployment_conflict',
  /** The database refused the record (the error carries its SQLSTATE and message). */
  storeRejected: 'dora.store_rejected',
  /** The bus delivered the message for the last time and the store still could not be reached. */
  deliveryExhausted: 'dora.delivery_exhausted',
} as const;

export interface DoraConsumerOptions {
  bus: Bus;
  service: DoraService;
  quarantine: Quarantine;
  logger: Logger;
  subjectPrefix: string;
  /** Durable names; default `stella-dora-deployments` and `stella-dora-incidents`. */
  durables?: { deployments: string; incidents: string };
}

export interface DoraConsumerStats {
  /** Messages recorded (new records, updates and idempotent repeats). */
  recorded: number;
  /** Messages quarantined (or, without a tenant, logged and dropped). */
  rejected: number;
}

const isLastDelivery = (m: BusMessage): boolean => m.maxDeliveries !== undefined && m.deliveryCount >= m.maxDeliveries;

export class DoraConsumer {
  readonly stats: DoraConsumerStats = { recorded: 0, rejected: 0 };
  private readonly consumers: BusConsumer[] = [];

  constructor(private readonly options: DoraConsumerOptions) {}

  async start(): Promise<void> {
    if (this.consumers.length > 0) return;
    const { bus, subjectPrefix, durables } = this.options;
    this.consumers.push(
      await bus.consume({ durable: durables?.deployments ?? 'stella-dora-deployments', filterSubject: releaseDeploymentFilterSubject(subjectPrefix), maxBatch: 500, handler: (b) => this.handle(b, 'deployment') }),
    );
    this.consumers.push(
      await bus.consume({ durable: durables?.incidents ?? 'stella-dora-incidents', filterSubject: releaseIncidentFilterSubject(subjectPrefix), maxBatch: 500, handler: (b) => this.handle(b, 'incident') }),
    );
  }

  /** Finishes the batches in hand (recorded and acknowledged), then stops consuming. */
  async stop(): Promise<void> {
    const consumers = this.consumers.splice(0);
    for (const c of consumers) await c.stop();
  }

  /** Records a batch in order; rejects (redelivery) only when the store cannot be reached. */
  async handle(batch: readonly BusMessage[], kind: 'deployment' | 'incident'): Promise<void> {
    const touched = new Set<string>();
    try {
      for (const message of batch) {
        const tenant = tenantOfSubject(message.subject, this.options.subjectPrefix);
        if (!isValidTenantId(tenant)) {
          this.stats.rejected++;
          this.options.logger.warn(
            { error_code: DORA_QUARANTINE_REASONS.recordInvalid, details: { subject: message.subject.slice(0, 300), msg_id: message.id.slice(0, 200) } },
            'release message on a subject without a valid tenant; dropped',
          );
          continue;
        }
        await this.one(tenant, message, kind);
        touched.add(tenant);
      }
    } finally {
      if (kind === 'deployment' && touched.size > 0) await this.options.service.refreshGaugesQuietly(touched);
    }
  }

  private async one(tenant: string, message: BusMessage, kind: 'deployment' | 'incident'): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(message.data).toString('utf8'));
    } catch {
      await this.setAside(tenant, message, DORA_QUARANTINE_REASONS.recordInvalid, `the ${kind} message is not JSON`);
      return;
    }
    try {
      if (kind === 'deployment') await this.options.service.recordDeployment(tenant, body);
      else await this.options.service.recordIncident(tenant, body);
      this.stats.recorded++;
    } catch (error) {
      if (error instanceof DoraInputError) return this.setAside(tenant, message, DORA_QUARANTINE_REASONS.recordInvalid, `${error.field}: ${error.message}`);
      if (error instanceof ServiceError && error.code === 'dora.deployment_conflict') return this.setAside(tenant, message, DORA_QUARANTINE_REASONS.deploymentConflict, error.message);
      if (isRecordRejection(error)) return this.setAside(tenant, message, DORA_QUARANTINE_REASONS.storeRejected, describeStoreError(error));
      if (isLastDelivery(message)) {
        return this.setAside(tenant, message, DORA_QUARANTINE_REASONS.deliveryExhausted, `not recorded after ${message.deliveryCount} deliveries, the most the bus makes: ${describeStoreError(error)}`);
      }
      throw error;
    }
  }

  private async setAside(tenant: string, message: BusMessage, reason: string, error: string): Promise<void> {
    this.stats.rejected++;
    const entry: QuarantineEntry = { signal: 'release', reason, error, source: `bus:${message.subject}#${message.id}`, payload: message.data };
    try {
      await this.options.quarantine.add(tenant, [entry]);
    } catch (cause) {
      // The quarantine stores any bytes; if even it refuses, the line moves on (logged, counted). An unreachable store fails the batch.
      if (!isRecordRejection(cause)) throw cause;
      this.options.quarantine.count(tenant, 'release', reason);
      this.options.logger.error({ tenant_id: tenant, error_code: 'dora.quarantine_refused', error_message: describeStoreError(cause).slice(0, 500) }, 'the quarantine refused a release message; it was dropped');
    }
  }
}
