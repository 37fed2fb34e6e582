/**
 * Incident modes for a process that serves several tenants: the service answers
 * `GET /telemetry/incidents/mode` per tenant, so one poller per tenant (telemetry-core's
 * HttpIncidentModeSource, with that tenant's header) and the union of their sets delivered as
 * one — what the IncidentModeRegistry expects from a single source.
 */
import { HttpIncidentModeSource, type IncidentMode, type IncidentModeSource } from '@stellaops/telemetry-core';

export interface TenantIncidentSourceOptions {
  /** Base URL of the Observability & Forensics service. */
  url: string;
  /** Service token (platform-wide `stella:obs:read` or `stella:telemetry:write`). */
  token: string;
  tenants: readonly string[];
  /** Poll interval per tenant. Default 1000 ms. */
  intervalMs?: number;
}

export class TenantIncidentModeSource implements IncidentModeSource {
  private readonly sources: HttpIncidentModeSource[];

  constructor(options: TenantIncidentSourceOptions) {
    this.sources = options.tenants.map(
      (tenant) => new HttpIncidentModeSource({ url: options.url, intervalMs: options.intervalMs ?? 1000, headers: { authorization: `Bearer ${options.token}`, 'x-stella-tenant': tenant } }),
    );
  }

  subscribe(listener: (modes: readonly IncidentMode[]) => void): () => void {
    const latest: (readonly IncidentMode[])[] = this.sources.map(() => []);
    let ready = false;
    const unsubscribes = this.sources.map((source, i) =>
      source.subscribe((modes) => {
        latest[i] = modes;
        if (ready) listener(latest.flat());
      }),
    );
    ready = true;
    listener(latest.flat());
    return () => unsubscribes.forEach((u) => u());
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
  }
}
