/**
 * INC-3: the Orchestrator switches incident mode over the bus, as it can over the API. A request
 * on `<prefix>.<tenant>.incident.request` is JSON:
 *
 *   { "state": "on" | "off", "service"?: string | null, "ttl_minutes"?: integer,
 *     "reason": string, "requested_by"?: string }
 *
 * and goes through the same incident controller as `POST /telemetry/incidents/mode` (trigger
 * `orchestrator`: audited, broadcast, captured, with the cooldown of automatic triggers). The
 * tenant is the subject's. A request that is malformed, or that the controller refuses (a
 * cooldown, a mode that is not on), is answered by an `audit.incident.request_refused` event on
 * the tenant's timeline with the reason, and acknowledged; only a store that cannot be reached
 * leaves the batch for redelivery.
 */
import { incidentRequestFilterSubject, isValidTenantId, type Bus, type BusConsumer, type BusMessage, type Logger } from '@stellaops/telemetry-core';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import type { IncidentController } from './incident-controller.js';

export interface IncidentRequest {
  state: 'on' | 'off';
  service: string | null;
  ttlMinutes: number;
  reason: string;
  requestedBy: string;
}

const SERVICE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DEFAULT_TTL_MINUTES = 240;

/** Parses a request; throws a message naming the field for anything else. */
export function parseIncidentRequest(data: Uint8Array, maxTtlHours: number): IncidentRequest {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new Error('the request is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('the request must be a JSON object');
  const r = body as Record<string, unknown>;
  const known = new Set(['state', 'service', 'ttl_minutes', 'reason', 'requested_by']);
  const unknown = Object.keys(r).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`unknown field ${unknown[0]}`);
  if (r['state'] !== 'on' && r['state'] !== 'off') throw new Error('state must be "on" or "off"');
  const service = r['service'] ?? null;
  if (service !== null && (typeof service !== 'string' || !SERVICE_RE.test(service))) throw new Error('service must be null or 1-128 letters, digits, ".", "_" or "-"');
  const ttl = r['ttl_minutes'] ?? DEFAULT_TTL_MINUTES;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > maxTtlHours * 60) throw new Error(`ttl_minutes must be an integer from 1 to ${maxTtlHours * 60}`);
  const reason = r['reason'];
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500 || !reason.isWellFormed() || [...reason].some((c) => c.charCodeAt(0) < 0x20)) {
    throw new Error('reason must be 1-500 printable characters');
  }
  const by = r['requested_by'] ?? 'orchestrator';
  if (typeof by !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9@._:/-]{0,127}$/.test(by)) throw new Error('requested_by must be 1-128 letters, digits or "@._:/-"');
  return { state: r['state'], service: service as string | null, ttlMinutes: ttl, reason, requestedBy: `orchestrator:${by}` };
}

export interface IncidentRequestConsumerOptions {
  bus: Bus;
  controller: IncidentController;
  audit: AuditTrail;
  config: ServiceConfig;
  logger: Logger;
}

export class IncidentRequestConsumer {
  /** Requests acted on, and refused (malformed, or refused by the controller). */
  readonly stats = { applied: 0, refused: 0 };
  private consumer: BusConsumer | undefined;

  constructor(private readonly options: IncidentRequestConsumerOptions) {}

  async start(): Promise<void> {
    this.consumer = await this.options.bus.consume({
      durable: 'stella-incident-requests',
      filterSubject: incidentRequestFilterSubject(this.options.config.subjectPrefix),
      maxBatch: 100,
      handler: (batch) => this.handle(batch),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  /** Acts on each request in order; rejects (redelivery) only when the store cannot be reached. */
  async handle(batch: readonly BusMessage[]): Promise<void> {
    for (const message of batch) await this.one(message);
  }

  private async one(message: BusMessage): Promise<void> {
    const { controller, config, logger } = this.options;
    const tenant = message.subject.split('.').at(-3);
    if (!isValidTenantId(tenant)) {
      this.stats.refused++;
      logger.warn({ error_code: 'incident.request_invalid', details: { subject: message.subject, msg_id: message.id } }, 'incident request on a subject without a valid tenant; ignored');
      return;
    }
    let request: IncidentRequest;
    try {
      request = parseIncidentRequest(message.data, config.incidentMaxTtlHours);
    } catch (error) {
      await this.refuse(tenant, message, (error as Error).message);
      return;
    }
    try {
      if (request.state === 'on') {
        await controller.on({ tenant, service: request.service, ttlMs: request.ttlMinutes * 60_000, reason: request.reason, actor: request.requestedBy, trigger: 'orchestrator' });
      } else {
        await controller.off({ tenant, service: request.service, actor: request.requestedBy });
      }
      this.stats.applied++;
    } catch (error) {
      // The controller's refusals (cooldown, not active, invalid) are answers; anything else (the store) is retried.
      if (error instanceof ServiceError && error.status < 500) {
        await this.refuse(tenant, message, `${error.code}: ${error.message}`);
        return;
      }
      throw error;
    }
  }

  private async refuse(tenant: string, message: BusMessage, reason: string): Promise<void> {
    this.stats.refused++;
    this.options.logger.warn({ error_code: 'incident.request_refused', tenant_id: tenant, details: { msg_id: message.id, reason } }, 'incident request refused');
    await this.options.audit.event(tenant, {
      kind: 'audit.incident.request_refused',
      actor: 'orchestrator',
      resource_type: 'incident_mode',
      resource_id: tenant,
      details: { msg_id: message.id, reason },
    });
  }
}
