/**
 * What a workload service needs from the Observability & Forensics service, over HTTP with
 * its own service token: timeline ingest (events built by telemetry-core's emitter, so they
 * carry tenant, actor and trace from the active context, scrubbed details and the digest),
 * and — when this build of the service has them — evidence artifacts and attestations.
 * Telemetry never fails the work it describes: failures are logged and counted.
 */
import { InProcessBus, TimelineEmitter, currentContext, tracedFetch, type Logger, type TimelineEvent, type TimelineEventInput } from '@stellaops/telemetry-core';

export interface StellaClientOptions {
  baseUrl: string;
  token: string;
  logger: Logger;
}

export class StellaClient {
  /** Builds events only; publishing is the HTTP POST below, not a bus. */
  private readonly builder = new TimelineEmitter({ bus: new InProcessBus() });
  private failures = 0;

  constructor(private readonly options: StellaClientOptions) {}

  get timelineFailures(): number {
    return this.failures;
  }

  /** Records one state transition in the tenant's timeline; resolves to the event, or undefined when it could not be recorded. */
  async emit(input: TimelineEventInput): Promise<TimelineEvent | undefined> {
    let event: TimelineEvent;
    try {
      event = this.builder.build(input);
    } catch (err) {
      this.failures++;
      this.options.logger.warn({ err, action: 'timeline.emit', resource: input.kind }, 'timeline event could not be built');
      return undefined;
    }
    const res = await this.post('/timeline/events', event.tenant_id, { events: [event] });
    if (!res.ok) {
      this.failures++;
      this.options.logger.warn({ action: 'timeline.emit', resource: input.kind, error_code: res.code, error_message: res.message }, 'timeline event not recorded');
      return undefined;
    }
    return event;
  }

  /**
   * Attaches bytes to a resource in the evidence locker (`POST /evidence/artifacts`); snapshots
   * of the resource include them. Resolves to the artifact digest, or undefined on failure.
   */
  async attach(resource: { type: string; id: string }, role: string, name: string, content: string | Buffer, mediaType = 'application/json'): Promise<string | undefined> {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const res = await this.post('/evidence/artifacts', undefined, {
      resource_type: resource.type,
      resource_id: resource.id,
      role,
      name,
      media_type: mediaType,
      content_base64: bytes.toString('base64'),
    });
    if (!res.ok) {
      this.failures++;
      this.options.logger.warn({ action: 'evidence.attach', resource: `${resource.type}/${resource.id}`, error_code: res.code, error_message: res.message }, 'evidence artifact not attached');
      return undefined;
    }
    return (res.body as { digest?: string }).digest;
  }

  /** Has the service sign an in-toto statement (`POST /attestations`); resolves to the attestation id. */
  async attest(subjectId: string, statement: unknown, resource: { type: string; id: string }): Promise<string | undefined> {
    const res = await this.post('/attestations', undefined, { subject_id: subjectId, statement, resource_type: resource.type, resource_id: resource.id });
    if (!res.ok) {
      this.failures++;
      this.options.logger.warn({ action: 'attest', resource: `${resource.type}/${resource.id}`, error_code: res.code, error_message: res.message }, 'attestation not recorded');
      return undefined;
    }
    return (res.body as { attestation?: { id?: string } }).attestation?.id;
  }

  /** POST with the service token for the active (or given) tenant; never throws. */
  async post(path: string, tenant: string | undefined, body: unknown): Promise<{ ok: true; status: number; body: unknown } | { ok: false; status: number; code: string; message: string }> {
    return this.request('POST', path, tenant, body);
  }

  async get(path: string, tenant: string | undefined): Promise<{ ok: true; status: number; body: unknown } | { ok: false; status: number; code: string; message: string }> {
    return this.request('GET', path, tenant);
  }

  private async request(method: string, path: string, tenant: string | undefined, body?: unknown): Promise<{ ok: true; status: number; body: unknown } | { ok: false; status: number; code: string; message: string }> {
    const t = tenant ?? currentContext().tenant_id;
    try {
      const res = await tracedFetch(`${this.options.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(t ? { 'x-stella-tenant': t } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON; keep the text
      }
      if (!res.ok) {
        const b = (parsed ?? {}) as { error_code?: string; message?: string };
        return { ok: false, status: res.status, code: b.error_code ?? `http.${res.status}`, message: b.message ?? text.slice(0, 200) };
      }
      return { ok: true, status: res.status, body: parsed };
    } catch (err) {
      return { ok: false, status: 0, code: 'stella.unreachable', message: (err as Error).message };
    }
  }
}
