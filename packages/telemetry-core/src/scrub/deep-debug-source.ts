/**
 * Deep-debug grants shared by every process (CORE-2). The Observability service holds each
 * tenant's grant (`POST /telemetry/deep-debug`, audited) and broadcasts the tenant's state on
 * `<prefix>.<tenant>.deep_debug.grant` whenever it changes; a `DeepDebugSource` delivers those
 * states and `followDeepDebug` applies them to this process's grants (deep-debug.ts), so every
 * logger and exporter of every process relaxes e-mail and path redaction for that tenant only,
 * and tightens it again when the grant is switched off or expires. Each grant a process applies
 * or drops is logged by that process (the default logger writes every `onDeepDebugChange`
 * event), and a grant lapses at its own expiry instant even if the "off" never arrives.
 *
 * Two sources, as for incident mode: `BusDeepDebugSource` consumes the bus (each process under
 * its own durable name, so each gets every message), `HttpDeepDebugSource` polls
 * `GET /telemetry/deep-debug` for processes without the service's bus. A malformed message or
 * answer is reported and skipped, never applied.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Bus, BusConsumer, BusMessage } from '../timeline/bus.js';
import { DEFAULT_SUBJECT_PREFIX, deepDebugFilterSubject, tenantOfSubject } from '../timeline/subjects.js';
import { isValidTenantId } from '../tenant-id.js';
import { PollLoop } from '../poll-loop.js';
import { applyDeepDebugGrant, disableDeepDebug, isDeepDebugActive } from './deep-debug.js';
import { ScrubError } from './errors.js';

/** A tenant's grant, as the service serves and broadcasts it. */
export interface DeepDebugGrantEntry {
  grant_id: string;
  tenant: string;
  /** Who switched it on. */
  actor: string;
  reason: string;
  /** ISO-8601 instants. */
  enabled_at: string;
  expires_at: string;
}

/** The change that produced a state: a grant switched on, switched off, or expired. */
export interface DeepDebugChange {
  state: 'on' | 'off' | 'expired';
  grant_id: string;
  actor: string;
  /** ISO-8601 instant of the change, on the service's clock. */
  at: string;
}

/** One tenant's complete deep-debug state: the grant in force (or none) and what changed last. */
export interface DeepDebugState {
  tenant: string;
  grant: DeepDebugGrantEntry | null;
  change: DeepDebugChange | null;
}

/**
 * A source of tenants' deep-debug states. `subscribe` delivers at once every state known so far,
 * then each tenant's new state whenever it changes (the complete state of that tenant, never a
 * delta within it).
 */
export interface DeepDebugSource {
  subscribe(listener: (states: readonly DeepDebugState[]) => void): () => void;
  /** Stops polling / consuming. Grants already applied still lapse at their expiry. */
  close(): Promise<void>;
}

/** Path of the service's status route. */
export const DEEP_DEBUG_PATH = '/telemetry/deep-debug';

const invalid = (message: string): ScrubError => new ScrubError('DEEP_DEBUG_INVALID', `deep debug state: ${message}`);

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field} must be a non-empty string`);
  return value;
}

function instant(value: unknown, field: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalid(`${field} must be an ISO-8601 instant`);
  return value;
}

function tenantOf(value: unknown, field: string): string {
  if (!isValidTenantId(value)) throw invalid(`${field} must be a tenant id`);
  return value;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be an object`);
  return value as Record<string, unknown>;
}

function parseGrant(raw: unknown, field: string, tenant: string): DeepDebugGrantEntry {
  const g = object(raw, field);
  const grantTenant = tenantOf(g['tenant'], `${field}.tenant`);
  // A tenant's state may only speak for that tenant.
  if (grantTenant !== tenant) throw invalid(`${field} names tenant "${grantTenant}" in the state of "${tenant}"`);
  return {
    grant_id: text(g['grant_id'], `${field}.grant_id`),
    tenant: grantTenant,
    actor: text(g['actor'], `${field}.actor`),
    reason: text(g['reason'], `${field}.reason`),
    enabled_at: instant(g['enabled_at'], `${field}.enabled_at`),
    expires_at: instant(g['expires_at'], `${field}.expires_at`),
  };
}

function parseChange(raw: unknown): DeepDebugChange | null {
  if (raw === null || raw === undefined) return null;
  const c = object(raw, 'change');
  if (c['state'] !== 'on' && c['state'] !== 'off' && c['state'] !== 'expired') throw invalid('change.state must be "on", "off" or "expired"');
  return { state: c['state'], grant_id: text(c['grant_id'], 'change.grant_id'), actor: text(c['actor'], 'change.actor'), at: instant(c['at'], 'change.at') };
}

/** Validates one broadcast state (`{tenant, grant, change}`). */
export function parseDeepDebugState(body: unknown): DeepDebugState {
  const b = object(body, 'the message');
  const tenant = tenantOf(b['tenant'], 'tenant');
  const grant = b['grant'] === null || b['grant'] === undefined ? null : parseGrant(b['grant'], 'grant', tenant);
  return { tenant, grant, change: parseChange(b['change']) };
}

/**
 * A tenant's state from the body of `GET /telemetry/deep-debug` (`{tenant, grants, recent}`):
 * the grant in force, and — when there is none — how the last one ended (`recent[0]`), so a
 * poller that saw it on can say who switched it off.
 */
export function parseDeepDebugStatus(body: unknown): DeepDebugState {
  const b = object(body, 'the answer');
  const tenant = tenantOf(b['tenant'], 'tenant');
  if (!Array.isArray(b['grants'])) throw invalid('"grants" must be an array');
  const grants = (b['grants'] as unknown[]).map((g, i) => parseGrant(g, `grants[${i}]`, tenant));
  if (grants.length > 1) throw invalid('a tenant has at most one grant in force');
  const grant = grants[0] ?? null;
  let change: DeepDebugChange | null = null;
  const last = Array.isArray(b['recent']) ? (b['recent'] as unknown[])[0] : undefined;
  if (grant) change = { state: 'on', grant_id: grant.grant_id, actor: grant.actor, at: grant.enabled_at };
  else if (last && typeof last === 'object') {
    const r = last as Record<string, unknown>;
    if (typeof r['grant_id'] === 'string' && typeof r['ended_by'] === 'string' && typeof r['ended_at'] === 'string') {
      change = { state: r['end_reason'] === 'ttl' ? 'expired' : 'off', grant_id: r['grant_id'], actor: r['ended_by'], at: r['ended_at'] };
    }
  }
  return { tenant, grant, change };
}

export interface FollowDeepDebugOptions {
  /** Hears a state that could not be applied. Default: ignored. */
  onError?: (error: Error, state: DeepDebugState) => void;
}

/** Applies one tenant's state to this process's grants; true when the grant in force changed. */
export function applyDeepDebugState(state: DeepDebugState): boolean {
  if (state.grant) {
    return applyDeepDebugGrant({
      tenantId: state.tenant,
      actor: state.grant.actor,
      reason: state.grant.reason,
      enabledAt: Date.parse(state.grant.enabled_at),
      expiresAt: Date.parse(state.grant.expires_at),
    });
  }
  if (!isDeepDebugActive(state.tenant)) return false;
  return disableDeepDebug(state.tenant, { actor: state.change?.actor ?? 'system:deep-debug-source', expired: state.change?.state === 'expired' });
}

/**
 * Makes this process's grants follow `source`; returns the function that stops following
 * (grants already applied then lapse at their expiry).
 */
export function followDeepDebug(source: DeepDebugSource, options: FollowDeepDebugOptions = {}): () => void {
  return source.subscribe((states) => {
    for (const state of states) {
      try {
        applyDeepDebugState(state);
      } catch (error) {
        options.onError?.(error instanceof Error ? error : new Error(String(error)), state);
      }
    }
  });
}

export interface BusDeepDebugSourceOptions {
  bus: Bus;
  /** Subject prefix. Default `stella`. */
  subjectPrefix?: string;
  /** Durable consumer name, unique per process. Default `deep-debug-<host>-<pid>-<random>`. */
  durable?: string;
  /** States known before the first message (the service's own store, or one `GET /telemetry/deep-debug`). Default none. */
  initial?: readonly DeepDebugState[];
  /** Hears each malformed message. Default: ignored. */
  onError?: (error: Error, message: BusMessage) => void;
}

/**
 * Deep-debug states pushed over the bus. A consumer new to the stream reads its history from the
 * start: within a batch only each tenant's last state counts, and a state older than the one
 * already known for the tenant (by its change's instant) is skipped, so a process catching up
 * never switches back to a grant that was since replaced or ended.
 */
export class BusDeepDebugSource implements DeepDebugSource {
  private readonly byTenant = new Map<string, DeepDebugState>();
  private readonly listeners = new Set<(states: readonly DeepDebugState[]) => void>();
  private readonly prefix: string;
  private consumer: Promise<BusConsumer> | undefined;
  private closed = false;

  constructor(private readonly options: BusDeepDebugSourceOptions) {
    this.prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    for (const s of options.initial ?? []) this.byTenant.set(s.tenant, s);
  }

  subscribe(listener: (states: readonly DeepDebugState[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.current());
    void this.ready().catch(() => undefined);
    return () => this.listeners.delete(listener);
  }

  /** Starts consuming (once); resolves when the subscription is in place. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the deep-debug source is closed'));
    this.consumer ??= this.options.bus.consume({
      durable: this.options.durable ?? `deep-debug-${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`,
      filterSubject: deepDebugFilterSubject(this.prefix),
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

  /** The last known state of every tenant heard of. */
  current(): DeepDebugState[] {
    return [...this.byTenant.values()];
  }

  private apply(batch: readonly BusMessage[]): void {
    const latest = new Map<string, DeepDebugState>();
    for (const message of batch) {
      try {
        const tenant = tenantOfSubject(message.subject, this.prefix);
        const state = parseDeepDebugState(JSON.parse(Buffer.from(message.data).toString('utf8')));
        if (!tenant || state.tenant !== tenant) throw invalid(`the state of "${state.tenant}" came on subject ${message.subject}`);
        const known = latest.get(tenant) ?? this.byTenant.get(tenant);
        if (known?.change && state.change && Date.parse(state.change.at) < Date.parse(known.change.at)) continue;
        latest.set(tenant, state);
      } catch (error) {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)), message);
      }
    }
    if (latest.size === 0) return;
    for (const [tenant, state] of latest) this.byTenant.set(tenant, state);
    const changed = [...latest.values()];
    for (const l of this.listeners) l(changed);
  }
}

export interface HttpDeepDebugSourceOptions {
  /** Base URL of the Observability service (`/telemetry/deep-debug` is appended) or the full URL. */
  url: string;
  /**
   * Tenants to poll, one request each with its `X-Stella-Tenant` (a process serving several
   * tenants, with a platform-wide token). Default: one request naming no tenant (the token's).
   */
  tenants?: readonly string[];
  /** Poll interval. Default 2000 ms. */
  intervalMs?: number;
  /** Per-request timeout. Default 1500 ms. */
  timeoutMs?: number;
  /** Extra request headers (an authorization token). Default none. */
  headers?: Record<string, string>;
  /** Called with each failed poll (network error, non-2xx, malformed body). Default: ignored. */
  onError?: (error: Error) => void;
  /** `fetch` implementation; injectable for tests. Default: global fetch. */
  fetch?: typeof fetch;
}

/**
 * Deep-debug states polled from the service's `GET /telemetry/deep-debug` (the token needs
 * `stella:telemetry:write`, `stella:obs:read` or `stella:telemetry:admin` for each tenant). On a
 * failed poll the last known state stays in force — a grant still lapses at its own expiry.
 */
export class HttpDeepDebugSource implements DeepDebugSource {
  private readonly url: string;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly targets: (string | undefined)[];
  private readonly listeners = new Set<(states: readonly DeepDebugState[]) => void>();
  private readonly lastBody = new Map<string | undefined, string>();
  private readonly states = new Map<string, DeepDebugState>();
  private readonly loop: PollLoop;

  constructor(private readonly options: HttpDeepDebugSourceOptions) {
    this.url = options.url.includes(DEEP_DEBUG_PATH) ? options.url : `${options.url.replace(/\/+$/, '')}${DEEP_DEBUG_PATH}`;
    this.intervalMs = options.intervalMs ?? 2000;
    this.timeoutMs = options.timeoutMs ?? 1500;
    this.loop = new PollLoop(this.intervalMs, () => Promise.all(this.targets.map((t) => this.poll(t))).then(() => undefined), () => this.listeners.size > 0);
    for (const t of options.tenants ?? []) if (!isValidTenantId(t)) throw invalid(`tenants: "${t}" is not a tenant id`);
    this.targets = options.tenants?.length ? [...options.tenants] : [undefined];
  }

  subscribe(listener: (states: readonly DeepDebugState[]) => void): () => void {
    this.listeners.add(listener);
    listener([...this.states.values()]);
    this.loop.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.loop.stop();
    };
  }

  /** Polls every tenant once now; resolves when the results (or failures) have been applied. */
  pollNow(): Promise<void> {
    return this.loop.pollNow();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.loop.close();
  }

  private async poll(tenant: string | undefined): Promise<void> {
    try {
      const response = await (this.options.fetch ?? fetch)(this.url, {
        headers: { accept: 'application/json', ...this.options.headers, ...(tenant ? { 'x-stella-tenant': tenant } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = await response.text();
      if (!response.ok) throw new Error(`deep debug poll${tenant ? ` for ${tenant}` : ''}: HTTP ${response.status}`);
      if (body === this.lastBody.get(tenant)) return;
      const state = parseDeepDebugStatus(JSON.parse(body));
      if (tenant && state.tenant !== tenant) throw invalid(`the answer for "${tenant}" is about "${state.tenant}"`);
      this.lastBody.set(tenant, body);
      this.states.set(state.tenant, state);
      for (const l of this.listeners) l([state]);
    } catch (err) {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
