/**
 * Incident modes pushed over the bus: the Observability service publishes each tenant's
 * complete set of active modes on `<prefix>.<tenant>.incident.mode` whenever it changes, and
 * this source replaces that tenant's entries with it — every process switches within the bus's
 * delivery latency, without polling. Each process needs its own copy of every message, so each
 * source consumes under its own durable name. A malformed message is reported and skipped
 * (never redelivered forever); entries still lapse at their own `expires_at`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Bus, BusConsumer, BusMessage } from '../timeline/bus.js';
import { DEFAULT_SUBJECT_PREFIX, tenantOfSubject } from '../timeline/subjects.js';
import { IncidentModeError, parseIncidentModeDocument, type IncidentMode, type IncidentModeSource } from './incident-mode.js';

export interface BusIncidentModeSourceOptions {
  bus: Bus;
  /** Subject prefix. Default `stella`. */
  subjectPrefix?: string;
  /** Durable consumer name, unique per process. Default `incident-mode-<host>-<pid>-<random>`. */
  durable?: string;
  /** Modes known before the first message (e.g. from one `GET /telemetry/incidents/mode`). Default none. */
  initial?: readonly IncidentMode[];
  /** Hears each malformed message. Default: ignored. */
  onError?: (error: Error, message: BusMessage) => void;
}

export class BusIncidentModeSource implements IncidentModeSource {
  private readonly byTenant = new Map<string, IncidentMode[]>();
  private readonly listeners = new Set<(modes: readonly IncidentMode[]) => void>();
  private readonly prefix: string;
  private consumer: Promise<BusConsumer> | undefined;
  private closed = false;

  constructor(private readonly options: BusIncidentModeSourceOptions) {
    this.prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    for (const m of options.initial ?? []) {
      if (m.tenant === null) continue;
      this.byTenant.set(m.tenant, [...(this.byTenant.get(m.tenant) ?? []), m]);
    }
  }

  subscribe(listener: (modes: readonly IncidentMode[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.current());
    void this.ready().catch(() => undefined);
    return () => this.listeners.delete(listener);
  }

  /** Starts consuming (once); resolves when the subscription is in place. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the incident mode source is closed'));
    this.consumer ??= this.options.bus.consume({
      durable: this.options.durable ?? `incident-mode-${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`,
      filterSubject: `${this.prefix}.*.incident.mode`,
      handler: async (batch) => this.apply(batch),
    });
    return this.consumer.then(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const consumer = await this.consumer?.catch(() => undefined);
    await consumer?.stop();
  }

  /** The complete set across tenants, as listeners receive it. */
  current(): IncidentMode[] {
    return [...this.byTenant.values()].flat();
  }

  private apply(batch: readonly BusMessage[]): void {
    let changed = false;
    for (const message of batch) {
      try {
        const tenant = tenantOfSubject(message.subject, this.prefix);
        const body = JSON.parse(Buffer.from(message.data).toString('utf8')) as { tenant?: unknown; modes?: unknown };
        if (!tenant || body.tenant !== tenant) throw new IncidentModeError(`message tenant ${JSON.stringify(body.tenant)} does not match subject ${message.subject}`);
        const modes = parseIncidentModeDocument(body);
        // A tenant's message may only speak for that tenant.
        if (modes.some((m) => m.tenant !== tenant)) throw new IncidentModeError(`a mode in the message for "${tenant}" names another tenant`);
        this.byTenant.set(tenant, modes);
        changed = true;
      } catch (error) {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)), message);
      }
    }
    if (!changed) return;
    const modes = this.current();
    for (const l of this.listeners) l(modes);
  }
}
