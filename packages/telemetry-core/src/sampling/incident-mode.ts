/**
 * Incident mode (INC-2 effects inside one process): while a tenant or a service is in
 * incident mode, every span for it is sampled and debug breadcrumbs are written. Modes come
 * from an `IncidentModeSource` (in-memory for tests, an HTTP poller of the service's
 * `GET /telemetry/incidents/mode`, later a bus subscriber) and expire on their own at
 * `expires_at`, so a lost "off" message cannot leave a process at 100% sampling forever.
 */

/** One incident-mode entry, as served by `GET /telemetry/incidents/mode`. */
export interface IncidentMode {
  /** Tenant in incident mode; `null` means every tenant of `service`. */
  tenant: string | null;
  /** Service in incident mode; `null` means every service of `tenant`. */
  service: string | null;
  state: 'on' | 'off';
  /** ISO-8601 instant after which the entry no longer applies; `null` = until turned off. */
  expires_at: string | null;
}

/** Body of `GET /telemetry/incidents/mode`. */
export interface IncidentModeDocument {
  modes: IncidentMode[];
}

/**
 * A source of incident modes. `subscribe` delivers the complete current set (not deltas)
 * whenever it changes; the first delivery may be immediate.
 */
export interface IncidentModeSource {
  subscribe(listener: (modes: readonly IncidentMode[]) => void): () => void;
  /** Stops polling / unsubscribes from the bus. */
  close(): Promise<void>;
}

/** Thrown (as a result, never into a request) when an incident document is malformed. */
export class IncidentModeError extends Error {
  readonly code: 'INCIDENT_MODE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'IncidentModeError';
    this.code = 'INCIDENT_MODE_INVALID';
  }
}

/** Validates a decoded `GET /telemetry/incidents/mode` body. */
export function parseIncidentModeDocument(body: unknown): IncidentMode[] {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { modes?: unknown }).modes)) {
    throw new IncidentModeError('incident mode document must be an object with a "modes" array');
  }
  const out: IncidentMode[] = [];
  for (const [i, raw] of ((body as { modes: unknown[] }).modes).entries()) {
    if (!raw || typeof raw !== 'object') throw new IncidentModeError(`modes[${i}] must be an object`);
    const m = raw as Record<string, unknown>;
    const tenant = m['tenant'] ?? null;
    const service = m['service'] ?? null;
    const expires = m['expires_at'] ?? null;
    if (tenant !== null && (typeof tenant !== 'string' || tenant === '')) throw new IncidentModeError(`modes[${i}].tenant must be a non-empty string or null`);
    if (service !== null && (typeof service !== 'string' || service === '')) throw new IncidentModeError(`modes[${i}].service must be a non-empty string or null`);
    if (tenant === null && service === null) throw new IncidentModeError(`modes[${i}] must name a tenant, a service or both`);
    if (m['state'] !== 'on' && m['state'] !== 'off') throw new IncidentModeError(`modes[${i}].state must be "on" or "off"`);
    if (expires !== null && (typeof expires !== 'string' || Number.isNaN(Date.parse(expires)))) {
      throw new IncidentModeError(`modes[${i}].expires_at must be an ISO-8601 instant or null`);
    }
    out.push({ tenant: tenant as string | null, service: service as string | null, state: m['state'] as 'on' | 'off', expires_at: expires as string | null });
  }
  return out;
}

interface ActiveEntry {
  tenant: string | null;
  service: string | null;
  expiresAt: number;
}

/**
 * The process-wide view of which scopes are in incident mode. Lookups are on the span-start
 * hot path, so the common case (no incident anywhere) is a single length check.
 */
export class IncidentModeRegistry {
  private entries: ActiveEntry[] = [];
  private readonly listeners = new Set<() => void>();

  /** @param now clock in ms since the epoch; injectable so tests can pass a TTL without sleeping. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Replaces the whole set (what a source delivers). "off" entries and expired ones are dropped. */
  replace(modes: readonly IncidentMode[]): void {
    const now = this.now();
    this.entries = modes
      .filter((m) => m.state === 'on')
      .map((m) => ({ tenant: m.tenant, service: m.service, expiresAt: m.expires_at === null ? Infinity : Date.parse(m.expires_at) }))
      .filter((e) => e.expiresAt > now);
    for (const l of this.listeners) l();
  }

  /** True when `tenant` (or `service`, or the pair) is in incident mode right now. */
  isActive(tenant: string | undefined, service: string | undefined): boolean {
    const entries = this.entries;
    if (entries.length === 0) return false;
    let now = -1;
    for (const e of entries) {
      if (e.tenant !== null && e.tenant !== tenant) continue;
      if (e.service !== null && e.service !== service) continue;
      if (e.expiresAt !== Infinity) {
        if (now < 0) now = this.now();
        if (e.expiresAt <= now) continue;
      }
      return true;
    }
    return false;
  }

  /** True if any tenant of `service` could be in incident mode (cheap pre-check). */
  get anyActive(): boolean {
    return this.entries.length > 0;
  }

  /** Entries still in force, for the `telemetry_incident_mode` gauge and status output. */
  active(): Array<{ tenant: string | null; service: string | null; expiresAt: number }> {
    const now = this.now();
    return this.entries.filter((e) => e.expiresAt > now).map((e) => ({ ...e }));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes the registry to a source; returns the unsubscribe function. */
  follow(source: IncidentModeSource): () => void {
    return source.subscribe((modes) => this.replace(modes));
  }
}

/** In-memory source for tests and for the single-process embedded service. */
export class InMemoryIncidentModeSource implements IncidentModeSource {
  private modes: IncidentMode[] = [];
  private readonly listeners = new Set<(modes: readonly IncidentMode[]) => void>();

  subscribe(listener: (modes: readonly IncidentMode[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.modes);
    return () => this.listeners.delete(listener);
  }

  /** Sets (or replaces) the entry for the same tenant/service pair. */
  set(mode: IncidentMode): void {
    this.modes = [...this.modes.filter((m) => m.tenant !== mode.tenant || m.service !== mode.service), mode];
    this.emit();
  }

  /** Replaces every entry. */
  replaceAll(modes: IncidentMode[]): void {
    this.modes = [...modes];
    this.emit();
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private emit(): void {
    for (const l of this.listeners) l(this.modes);
  }
}
