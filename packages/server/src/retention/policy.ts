/**
 * The one retention policy of the service (SPEC STO-4, EVI-5, AUTH-4): what each kind of data
 * is kept for, the bounds a tenant's own setting must stay within, and what pruning never
 * touches. The timeline retention job, the telemetry segment job and the evidence pruning job
 * all read it; the settings APIs validate against it. docs/timeline.md, docs/evidence-locker.md
 * and docs/install-telemetry-stack.md explain the figures.
 *
 * | data | default | a tenant may set |
 * |---|---|---|
 * | timeline events | 180 d (`STELLA_TIMELINE_RETENTION_DAYS`) | 30 – 3650 d |
 * | evidence bundles | 180 d (`STELLA_EVIDENCE_RETENTION_DAYS`) | 90 – 3650 d |
 * | logs, traces, metrics: hot (indexed, searchable) | 7 d | 3 – 7 d |
 * | … warm (raw segments: capture, reindex) | 30 d (`STELLA_TELEMETRY_WARM_DAYS`) | 30 – 90 d |
 * | … cold (raw segments kept past warm, per tenant) | none (0) | 0, or more than warm up to 3650 d |
 * | `audit.*` timeline events | at least 400 d, whatever the timeline setting | — |
 * | custody events (`details.custody`, `evidence.*`, `attestation.*`) | at least the evidence retention | — |
 *
 * Whatever the age, pruning keeps: everything about a case under legal hold (its bundles, the
 * events about the case, its bundles and their subjects), everything inside an incident
 * retention window (`telemetry_retention_holds`, INC-2) or while evidence retention is
 * extended (`evidence_settings.extended_until`), and every event that describes an evidence
 * bundle that still exists.
 */
import { ConfigError, type ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';

export const DAY_MS = 86_400_000;

export const SIGNALS = ['traces', 'logs', 'metrics'] as const;
export type RetentionSignal = (typeof SIGNALS)[number];

export interface Bound {
  min: number;
  max: number;
}

/** Floors and ceilings of every setting, in days. */
export const RETENTION_BOUNDS = {
  /** 30 d: one monthly review cycle; a tenant cannot erase its trail faster than it is looked at. */
  timeline: { min: 30, max: 3650 },
  /** 90 d: a quarter, the shortest look-back of common audit regimes (PCI DSS keeps 3 months at hand). */
  evidence: { min: 90, max: 3650 },
  /** Hot tier: the SQL index that /obs/logs, /obs/trace and health read. */
  hot: { min: 3, max: 7 },
  /** Warm tier: the raw segments forensic capture and reindexing read. */
  warm: { min: 30, max: 90 },
  /** Cold tier: raw segments past warm, per tenant; 0 means none, else more than warm. */
  cold: { min: 0, max: 3650 },
} as const satisfies Record<string, Bound>;

/** `audit.*` events are kept at least this long: a year plus slack for an annual audit that runs late. */
export const AUDIT_FLOOR_DAYS = 400;

export const DEFAULT_DAYS = { timeline: 180, evidence: 180, hot: 7, warm: 30, cold: 0 } as const;

export interface SignalTiers {
  /** Days the index rows are kept (searchable). */
  hot_days: number;
  /** Days the raw segments are kept on the service's store. */
  warm_days: number;
  /** 0 (no cold tier) or the age up to which raw segments are kept past warm. */
  cold_days: number;
}

/** Why something past its retention was kept. */
export const KEEP_REASONS = ['legal_hold', 'incident', 'evidence_exists', 'audit_floor', 'custody_floor', 'object_lock'] as const;
export type KeepReason = (typeof KEEP_REASONS)[number];

/**
 * Reasons that are holds — something outside the normal retention stopped a deletion. A pass
 * that refused anything newly due for one of these is audited; the floors (audit, custody,
 * existing evidence) are the policy's ordinary retention and are only reported alongside.
 */
export const HOLD_REASONS: readonly KeepReason[] = ['legal_hold', 'incident', 'object_lock'];

export const KEEP_REASON_TEXT: Readonly<Record<KeepReason, string>> = {
  legal_hold: 'a case under legal hold',
  incident: 'inside an incident retention window or an incident extension',
  evidence_exists: 'describes an evidence bundle that still exists',
  audit_floor: `audit events are kept at least ${AUDIT_FLOOR_DAYS} days`,
  custody_floor: 'custody events are kept at least as long as the evidence retention',
  object_lock: "the object store's retention lock has not passed",
};

/** 400 `retention.out_of_bounds`: a setting below its floor or above its ceiling, naming the bound. */
export class RetentionBoundError extends ServiceError {
  constructor(message: string, field: string, allowed: Record<string, unknown>) {
    super('retention.out_of_bounds', message, { field, extra: { allowed } });
  }
}

function checkBound(value: number, bound: Bound, what: string, field: string, why: string): void {
  if (!Number.isInteger(value)) throw new RetentionBoundError(`${field}: ${what} must be a whole number of days`, field, { min_days: bound.min, max_days: bound.max });
  if (value < bound.min) {
    throw new RetentionBoundError(`${field}: ${what} may not be less than ${bound.min} days (the floor: ${why}); got ${value}`, field, { min_days: bound.min, max_days: bound.max, bound: 'floor' });
  }
  if (value > bound.max) {
    throw new RetentionBoundError(`${field}: ${what} may not be more than ${bound.max} days (the ceiling); got ${value}`, field, { min_days: bound.min, max_days: bound.max, bound: 'ceiling' });
  }
}

export function checkTimelineDays(days: number, field = 'body.retention_days'): void {
  checkBound(days, RETENTION_BOUNDS.timeline, 'timeline retention', field, 'one monthly review cycle');
}

export function checkEvidenceDays(days: number, field = 'body.retention_days'): void {
  checkBound(days, RETENTION_BOUNDS.evidence, 'evidence retention', field, 'a quarter, the shortest common audit look-back');
}

/** Validates a signal's tiers together (each within its bounds, cold beyond warm). */
export function checkSignalTiers(signal: RetentionSignal, tiers: SignalTiers, fieldPrefix = `body.signals.${signal}`): void {
  checkBound(tiers.hot_days, RETENTION_BOUNDS.hot, `${signal} hot retention`, `${fieldPrefix}.hot_days`, 'what incident triage needs searchable');
  checkBound(tiers.warm_days, RETENTION_BOUNDS.warm, `${signal} warm retention`, `${fieldPrefix}.warm_days`, 'a month of raw telemetry for forensic capture');
  const cold = RETENTION_BOUNDS.cold;
  const field = `${fieldPrefix}.cold_days`;
  if (!Number.isInteger(tiers.cold_days) || tiers.cold_days < 0 || tiers.cold_days > cold.max || (tiers.cold_days !== 0 && tiers.cold_days <= tiers.warm_days)) {
    const which = tiers.cold_days > cold.max ? 'ceiling' : 'floor';
    throw new RetentionBoundError(
      `${field}: ${signal} cold retention must be 0 (no cold tier) or more than warm_days (${tiers.warm_days}) and at most ${cold.max} days; got ${tiers.cold_days}`,
      field,
      { min_days: tiers.warm_days + 1, max_days: cold.max, or: 0, bound: which },
    );
  }
}

/** Days raw segments of a signal are kept: cold when set, else warm. */
export function rawDays(tiers: SignalTiers): number {
  return tiers.cold_days > 0 ? tiers.cold_days : tiers.warm_days;
}

export interface RetentionDefaults {
  timelineDays: number;
  evidenceDays: number;
  signals: Record<RetentionSignal, SignalTiers>;
}

type Env = Record<string, string | undefined>;

function envDays(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new ConfigError(`${name} must be a whole number of days, got "${raw}"`);
  return n;
}

function clamp(n: number, bound: Bound): number {
  return Math.min(bound.max, Math.max(bound.min, n));
}

/**
 * The service-wide defaults, checked against the same bounds as a tenant's settings (a default
 * outside them stops the service with a message naming the setting). The per-signal settings
 * `STELLA_TELEMETRY_<SIGNAL>_RETENTION_DAYS` set the hot tier and are held within 3–7 days;
 * `STELLA_TELEMETRY_WARM_DAYS` and `STELLA_TELEMETRY_COLD_DAYS` the raw tiers of every signal.
 */
export function retentionDefaults(config: ServiceConfig, env: Env = process.env): RetentionDefaults {
  const wrap = (name: string, check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (error instanceof RetentionBoundError) throw new ConfigError(`${name}: ${error.message.replace(/^[^:]*: /, '')}`);
      throw error;
    }
  };
  const timelineDays = config.timelineRetentionDays;
  wrap('STELLA_TIMELINE_RETENTION_DAYS', () => checkTimelineDays(timelineDays));
  const evidenceDays = envDays(env, 'STELLA_EVIDENCE_RETENTION_DAYS', DEFAULT_DAYS.evidence);
  wrap('STELLA_EVIDENCE_RETENTION_DAYS', () => checkEvidenceDays(evidenceDays));
  const warm = envDays(env, 'STELLA_TELEMETRY_WARM_DAYS', DEFAULT_DAYS.warm);
  const coldDays = envDays(env, 'STELLA_TELEMETRY_COLD_DAYS', DEFAULT_DAYS.cold);
  const hot: Record<RetentionSignal, number> = {
    traces: clamp(config.telemetryTracesRetentionDays, RETENTION_BOUNDS.hot),
    logs: clamp(config.telemetryLogsRetentionDays, RETENTION_BOUNDS.hot),
    metrics: clamp(config.telemetryMetricsRetentionDays, RETENTION_BOUNDS.hot),
  };
  const signals = {} as Record<RetentionSignal, SignalTiers>;
  for (const signal of SIGNALS) {
    signals[signal] = { hot_days: hot[signal], warm_days: warm, cold_days: coldDays };
    wrap(`STELLA_TELEMETRY_WARM_DAYS / STELLA_TELEMETRY_COLD_DAYS`, () => checkSignalTiers(signal, signals[signal], `${signal}`));
  }
  return { timelineDays, evidenceDays, signals };
}

/**
 * Cut-offs of one timeline pass: events older than `events` may go, except `audit.*` events
 * newer than `audit` and custody events newer than `custody` (and whatever a hold protects).
 */
export function timelineCutoffs(nowMs: number, timelineDays: number, evidenceDays: number): { events: Date; audit: Date; custody: Date } {
  return {
    events: new Date(nowMs - timelineDays * DAY_MS),
    audit: new Date(nowMs - Math.max(timelineDays, AUDIT_FLOOR_DAYS) * DAY_MS),
    custody: new Date(nowMs - Math.max(timelineDays, evidenceDays) * DAY_MS),
  };
}

/** Zero counts for every reason. */
export function emptyReasons(): Record<KeepReason, number> {
  return Object.fromEntries(KEEP_REASONS.map((r) => [r, 0])) as Record<KeepReason, number>;
}
