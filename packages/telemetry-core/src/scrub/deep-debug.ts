/**
 * Per-tenant deep-debug grants. A grant relaxes e-mail and path redaction for one tenant until
 * it expires; secrets stay redacted always. State is process-wide because every logger and
 * exporter in the process must agree on it. Expiry is detected lazily on the next check (no
 * timers to keep the process alive) and reported exactly once. Grants are made here by a call
 * (`enableDeepDebug`) or, across processes, applied from the Observability service's by a
 * `DeepDebugSource` (`followDeepDebug`, deep-debug-source.ts).
 */
import { ScrubError } from './errors.js';

/** Longest grant one call may ask for: deep debug is time-boxed by design. */
export const MAX_DEEP_DEBUG_TTL_MS = 24 * 60 * 60 * 1000;

export interface DeepDebugOptions {
  /** Lifetime of the grant in milliseconds; 1 ms … 24 h. */
  ttlMs: number;
  /** Who asked for it (user id or service account), recorded in the change event. */
  actor: string;
  /** Why (ticket, incident), recorded in the change event. */
  reason: string;
}

export interface DeepDebugGrant {
  tenantId: string;
  actor: string;
  reason: string;
  enabledAt: number;
  expiresAt: number;
}

export interface DeepDebugEvent {
  type: 'enabled' | 'expired' | 'disabled';
  tenantId: string;
  actor?: string;
  reason?: string;
  expiresAt: number;
}

export type DeepDebugListener = (event: DeepDebugEvent) => void;

const grants = new Map<string, DeepDebugGrant>();
const listeners = new Set<DeepDebugListener>();
let clock: () => number = Date.now;
/** Earliest expiry among grants; lets checks skip the sweep until something can have expired. */
let nextExpiry = Infinity;

/** Replaces the clock used for grants (tests); call with no argument to restore `Date.now`. */
export function setScrubClock(fn?: () => number): void {
  if (fn !== undefined && typeof fn !== 'function') {
    throw new ScrubError('DEEP_DEBUG_INVALID', 'setScrubClock expects a function returning epoch milliseconds');
  }
  clock = fn ?? Date.now;
}

/** Subscribes to grant changes; returns the unsubscribe function. */
export function onDeepDebugChange(listener: DeepDebugListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

function emit(event: DeepDebugEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // A failing listener (e.g. a logger whose stream broke) must not break scrubbing.
    }
  }
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ScrubError('DEEP_DEBUG_INVALID', `deep debug: "${field}" must be a non-empty string`);
  }
  return value;
}

/** Removes expired grants, reporting each once. */
function sweep(now: number): void {
  if (now < nextExpiry) return;
  let earliest = Infinity;
  for (const [tenantId, grant] of grants) {
    if (grant.expiresAt <= now) {
      grants.delete(tenantId);
      emit({ type: 'expired', tenantId, actor: grant.actor, reason: grant.reason, expiresAt: grant.expiresAt });
    } else if (grant.expiresAt < earliest) {
      earliest = grant.expiresAt;
    }
  }
  nextExpiry = earliest;
}

/**
 * Grants deep debug to `tenantId` for `ttlMs`. Enabling again replaces the grant (new TTL from
 * now). Emits an `enabled` event so the logger records the opt-in.
 */
export function enableDeepDebug(tenantId: string, options: DeepDebugOptions): DeepDebugGrant {
  requireText(tenantId, 'tenantId');
  if (options === null || typeof options !== 'object') {
    throw new ScrubError('DEEP_DEBUG_INVALID', 'deep debug: options { ttlMs, actor, reason } are required');
  }
  const { ttlMs } = options;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 1 || ttlMs > MAX_DEEP_DEBUG_TTL_MS) {
    throw new ScrubError(
      'DEEP_DEBUG_INVALID',
      `deep debug: "ttlMs" must be between 1 and ${MAX_DEEP_DEBUG_TTL_MS} (24 h); got ${String(ttlMs)}`,
    );
  }
  const actor = requireText(options.actor, 'actor');
  const reason = requireText(options.reason, 'reason');
  const now = clock();
  sweep(now);
  const grant: DeepDebugGrant = { tenantId, actor, reason, enabledAt: now, expiresAt: now + ttlMs };
  grants.set(tenantId, grant);
  // Replacing a grant may move the earliest expiry later; recompute rather than guess.
  nextExpiry = Math.min(...[...grants.values()].map((g) => g.expiresAt));
  emit({ type: 'enabled', tenantId, actor, reason, expiresAt: grant.expiresAt });
  return { ...grant };
}

/**
 * Applies a grant decided elsewhere (the Observability service's, delivered by a
 * `DeepDebugSource`) as it is: its own actor, reason and expiry instant, not a TTL counted from
 * now. A grant equal to the one in force changes nothing and emits nothing (sources deliver the
 * same state again); a different one replaces it and emits `enabled`. A grant already expired
 * is not applied; one reaching further than `MAX_DEEP_DEBUG_TTL_MS` from now is cut to it.
 * Returns true when the grant in force changed.
 */
export function applyDeepDebugGrant(grant: DeepDebugGrant): boolean {
  if (grant === null || typeof grant !== 'object') {
    throw new ScrubError('DEEP_DEBUG_INVALID', 'deep debug: a grant { tenantId, actor, reason, enabledAt, expiresAt } is required');
  }
  const tenantId = requireText(grant.tenantId, 'tenantId');
  const actor = requireText(grant.actor, 'actor');
  const reason = requireText(grant.reason, 'reason');
  for (const field of ['enabledAt', 'expiresAt'] as const) {
    if (typeof grant[field] !== 'number' || !Number.isFinite(grant[field])) {
      throw new ScrubError('DEEP_DEBUG_INVALID', `deep debug: "${field}" must be epoch milliseconds; got ${String(grant[field])}`);
    }
  }
  const now = clock();
  sweep(now);
  if (grant.expiresAt <= now) return false;
  const expiresAt = Math.min(grant.expiresAt, now + MAX_DEEP_DEBUG_TTL_MS);
  const current = grants.get(tenantId);
  if (current && current.actor === actor && current.reason === reason && current.expiresAt === expiresAt) return false;
  grants.set(tenantId, { tenantId, actor, reason, enabledAt: grant.enabledAt, expiresAt });
  nextExpiry = Math.min(...[...grants.values()].map((g) => g.expiresAt));
  emit({ type: 'enabled', tenantId, actor, reason, expiresAt });
  return true;
}

/**
 * Ends a grant early. Returns true when an active grant was removed (a `disabled` event is
 * emitted, or `expired` with `expired: true` — the grant's authority ended it at its TTL before
 * this process's clock got there); false when there was none or it had already expired.
 */
export function disableDeepDebug(tenantId: string, options: { actor: string; expired?: boolean }): boolean {
  requireText(tenantId, 'tenantId');
  const actor = requireText(options?.actor, 'actor');
  sweep(clock());
  const grant = grants.get(tenantId);
  if (!grant) return false;
  grants.delete(tenantId);
  nextExpiry = grants.size === 0 ? Infinity : Math.min(...[...grants.values()].map((g) => g.expiresAt));
  emit({ type: options.expired === true ? 'expired' : 'disabled', tenantId, actor, reason: grant.reason, expiresAt: grant.expiresAt });
  return true;
}

/** Whether `tenantId` has an unexpired grant at `now` (default: the scrub clock). */
export function isDeepDebugActive(tenantId: string | undefined, now: number = clock()): boolean {
  if (grants.size === 0 || tenantId === undefined) return false;
  sweep(now);
  const grant = grants.get(tenantId);
  return grant !== undefined && grant.expiresAt > now;
}

/** Active grants, sorted by tenant id (copies). */
export function listDeepDebug(): DeepDebugGrant[] {
  sweep(clock());
  return [...grants.values()].map((g) => ({ ...g })).sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
}

/** Cheap check for the hot path: no grant anywhere means nothing is ever relaxed. */
export function anyDeepDebug(): boolean {
  return grants.size > 0;
}
