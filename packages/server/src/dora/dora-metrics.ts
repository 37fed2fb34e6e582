/**
 * DORA-2..4, pure: the four key metrics (and MTTA) over a window, their performance levels and
 * the SLO targets. No I/O: the feature's repository reads the records, this computes.
 *
 * Over deployments whose deploy_time and incidents whose started_at fall in [from, to):
 * - deployments_total; deployment_frequency_per_day = deployments_total / window days;
 * - lead_time_hours = median of (deploy_time − commit_time) (the mean of the two middle values
 *   for an even count);
 * - change_failure_rate_percent = deployments with outcome rollback, hotfix or failed ×100 /
 *   deployments_total;
 * - time_to_recovery_hours (MTTR) = mean of (resolved_at − started_at) over resolved incidents;
 * - time_to_acknowledge_hours (MTTA) = mean of (acknowledged_at − started_at) over
 *   acknowledged incidents.
 * A metric over an empty set is null, never NaN. Each value is computed from integer
 * milliseconds with a single division, so a value exactly at a threshold is exactly the
 * threshold (0.15 × 100 would be 15.000000000000002; 3 × 100 / 20 is 15).
 *
 * Levels (DORA-3): elite ≥ 1 deployment/day, lead time < 24 h, CFR < 15 %, MTTR < 1 h; high ≥
 * 1/week, < 168 h, < 30 %, < 24 h; medium ≥ 1/30 days, < 4380 h, < 45 %, < 168 h; otherwise low.
 * A null metric (nothing to measure: no deployment, no resolved incident) has no level and does
 * not count towards the overall level, which is the lowest level of the metrics that have one;
 * deployment frequency always has one (no deployment is 0 per day: low).
 */
import { FAILURE_OUTCOMES, INCIDENT_SEVERITIES, type DeploymentOutcome, type DeploymentRecord, type IncidentRecord, type IncidentSeverity } from './dora-records.js';

export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

export const DORA_LEVELS = ['elite', 'high', 'medium', 'low'] as const;
export type DoraLevel = (typeof DORA_LEVELS)[number];

/** The thresholds of DORA-3, best level first. */
export const DORA_THRESHOLDS = {
  /** Deployments per day, at least. */
  deployment_frequency: { elite: 1, high: 1 / 7, medium: 1 / 30 },
  /** Hours, less than. */
  lead_time: { elite: 24, high: 168, medium: 4380 },
  /** Percent, less than. */
  change_failure_rate: { elite: 15, high: 30, medium: 45 },
  /** Hours, less than. */
  time_to_recovery: { elite: 1, high: 24, medium: 168 },
} as const;

/** DORA-4 targets. */
export interface DoraTargets {
  leadTimeHours: number;
  deploymentFrequencyPerDay: number;
  changeFailureRatePercent: number;
  mttrHours: number;
}

export const DEFAULT_DORA_TARGETS: Readonly<DoraTargets> = Object.freeze({ leadTimeHours: 24, deploymentFrequencyPerDay: 1, changeFailureRatePercent: 15, mttrHours: 1 });

/** A deployment with its times in milliseconds. */
export interface Deployment {
  deploymentId: string;
  service: string;
  environment: string;
  pipeline: string;
  commitMs: number;
  deployMs: number;
  outcome: DeploymentOutcome;
}

/** An incident with its times in milliseconds. */
export interface Incident {
  incidentId: string;
  environment: string;
  service: string | null;
  severity: IncidentSeverity;
  startedMs: number;
  acknowledgedMs: number | null;
  resolvedMs: number | null;
}

export interface DoraWindow {
  fromMs: number;
  toMs: number;
}

export function toDeployment(r: DeploymentRecord): Deployment {
  return { deploymentId: r.deployment_id, service: r.service, environment: r.environment, pipeline: r.pipeline, commitMs: Date.parse(r.commit_time), deployMs: Date.parse(r.deploy_time), outcome: r.outcome };
}

export function toIncident(r: IncidentRecord): Incident {
  return {
    incidentId: r.incident_id,
    environment: r.environment,
    service: r.service,
    severity: r.severity,
    startedMs: Date.parse(r.started_at),
    acknowledgedMs: r.acknowledged_at === null ? null : Date.parse(r.acknowledged_at),
    resolvedMs: r.resolved_at === null ? null : Date.parse(r.resolved_at),
  };
}

export const isFailure = (d: Pick<Deployment, 'outcome'>): boolean => FAILURE_OUTCOMES.has(d.outcome);
export const leadTimeMs = (d: Pick<Deployment, 'commitMs' | 'deployMs'>): number => d.deployMs - d.commitMs;

/** Median of integers (the mean of the two middle values for an even count); null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median in hours of millisecond durations: one division, exact at whole thresholds. */
export function medianHours(durationsMs: readonly number[]): number | null {
  const m = median(durationsMs);
  return m === null ? null : m / MS_PER_HOUR;
}

/** Mean in hours of millisecond durations (the sum divided once); null when empty. */
export function meanHours(durationsMs: readonly number[]): number | null {
  if (durationsMs.length === 0) return null;
  let sum = 0;
  for (const d of durationsMs) sum += d;
  return sum / (durationsMs.length * MS_PER_HOUR);
}

/** Percent of `part` in `whole` (one division); null when whole is 0. */
export function percentOf(part: number, whole: number): number | null {
  return whole === 0 ? null : (part * 100) / whole;
}

export const inWindow = (ms: number, w: DoraWindow): boolean => ms >= w.fromMs && ms < w.toMs;

export interface DoraMetrics {
  window_days: number;
  deployments_total: number;
  deployment_failures_total: number;
  deployment_frequency_per_day: number;
  lead_time_hours: number | null;
  change_failure_rate_percent: number | null;
  time_to_recovery_hours: number | null;
  time_to_acknowledge_hours: number | null;
  incidents_total: number;
  incidents_acknowledged: number;
  incidents_resolved: number;
}

/** The window's deployments and incidents (deploy_time and started_at in [from, to)). */
export function withinWindow(deployments: readonly Deployment[], incidents: readonly Incident[], w: DoraWindow): { deployments: Deployment[]; incidents: Incident[] } {
  return { deployments: deployments.filter((d) => inWindow(d.deployMs, w)), incidents: incidents.filter((i) => inWindow(i.startedMs, w)) };
}

export function computeDoraMetrics(allDeployments: readonly Deployment[], allIncidents: readonly Incident[], w: DoraWindow): DoraMetrics {
  if (!(w.toMs > w.fromMs)) throw new RangeError('the window must end after it starts');
  const { deployments, incidents } = withinWindow(allDeployments, allIncidents, w);
  const windowMs = w.toMs - w.fromMs;
  const failures = deployments.filter(isFailure).length;
  const resolved = incidents.filter((i) => i.resolvedMs !== null);
  const acknowledged = incidents.filter((i) => i.acknowledgedMs !== null);
  return {
    window_days: windowMs / MS_PER_DAY,
    deployments_total: deployments.length,
    deployment_failures_total: failures,
    deployment_frequency_per_day: (deployments.length * MS_PER_DAY) / windowMs,
    lead_time_hours: medianHours(deployments.map(leadTimeMs)),
    change_failure_rate_percent: percentOf(failures, deployments.length),
    time_to_recovery_hours: meanHours(resolved.map((i) => i.resolvedMs! - i.startedMs)),
    time_to_acknowledge_hours: meanHours(acknowledged.map((i) => i.acknowledgedMs! - i.startedMs)),
    incidents_total: incidents.length,
    incidents_acknowledged: acknowledged.length,
    incidents_resolved: resolved.length,
  };
}

export interface DoraClassification {
  deployment_frequency: DoraLevel;
  lead_time: DoraLevel | null;
  change_failure_rate: DoraLevel | null;
  time_to_recovery: DoraLevel | null;
  /** The lowest level of the metrics that have one. */
  overall: DoraLevel;
}

export function frequencyLevel(perDay: number): DoraLevel {
  const t = DORA_THRESHOLDS.deployment_frequency;
  return perDay >= t.elite ? 'elite' : perDay >= t.high ? 'high' : perDay >= t.medium ? 'medium' : 'low';
}

function belowLevel(value: number | null, t: { elite: number; high: number; medium: number }): DoraLevel | null {
  if (value === null) return null;
  return value < t.elite ? 'elite' : value < t.high ? 'high' : value < t.medium ? 'medium' : 'low';
}

export const leadTimeLevel = (hours: number | null): DoraLevel | null => belowLevel(hours, DORA_THRESHOLDS.lead_time);
export const changeFailureLevel = (percent: number | null): DoraLevel | null => belowLevel(percent, DORA_THRESHOLDS.change_failure_rate);
export const recoveryLevel = (hours: number | null): DoraLevel | null => belowLevel(hours, DORA_THRESHOLDS.time_to_recovery);

/** The lower of levels (low is lowest). */
export function lowestLevel(levels: readonly DoraLevel[]): DoraLevel {
  return levels.reduce<DoraLevel>((low, l) => (DORA_LEVELS.indexOf(l) > DORA_LEVELS.indexOf(low) ? l : low), 'elite');
}

export function classifyDora(m: Pick<DoraMetrics, 'deployment_frequency_per_day' | 'lead_time_hours' | 'change_failure_rate_percent' | 'time_to_recovery_hours'>): DoraClassification {
  const c = {
    deployment_frequency: frequencyLevel(m.deployment_frequency_per_day),
    lead_time: leadTimeLevel(m.lead_time_hours),
    change_failure_rate: changeFailureLevel(m.change_failure_rate_percent),
    time_to_recovery: recoveryLevel(m.time_to_recovery_hours),
  };
  return { ...c, overall: lowestLevel([c.deployment_frequency, c.lead_time, c.change_failure_rate, c.time_to_recovery].filter((l): l is DoraLevel => l !== null)) };
}

/** A deployment whose lead time is over the target (strictly): counted once in dora_slo_breach_total{metric="lead_time"}. */
export const overLeadTimeTarget = (d: Pick<Deployment, 'commitMs' | 'deployMs'>, t: DoraTargets): boolean => leadTimeMs(d) > t.leadTimeHours * MS_PER_HOUR;
/** A resolved incident whose recovery took longer than the target: counted once in dora_slo_breach_total{metric="time_to_recovery"}. */
export const overRecoveryTarget = (i: Pick<Incident, 'startedMs' | 'resolvedMs'>, t: DoraTargets): boolean => i.resolvedMs !== null && i.resolvedMs - i.startedMs > t.mttrHours * MS_PER_HOUR;

export interface DoraSloStatus {
  targets: { lead_time_hours: number; deployment_frequency_per_day: number; change_failure_rate_percent: number; time_to_recovery_hours: number };
  /** Window-level breaches: frequency below its target, CFR, median lead time and MTTR above theirs; null when the metric is null. */
  breaches: { deployment_frequency: boolean; change_failure_rate: boolean | null; lead_time: boolean | null; time_to_recovery: boolean | null };
  /** Deployments of the window whose lead time is over the target. */
  deployments_over_lead_time_target: number;
  /** Resolved incidents of the window whose recovery took longer than the target. */
  incidents_over_recovery_target: number;
}

export function doraSloStatus(m: DoraMetrics, deployments: readonly Deployment[], incidents: readonly Incident[], w: DoraWindow, t: DoraTargets): DoraSloStatus {
  const inside = withinWindow(deployments, incidents, w);
  const over = (value: number | null, target: number): boolean | null => (value === null ? null : value > target);
  return {
    targets: { lead_time_hours: t.leadTimeHours, deployment_frequency_per_day: t.deploymentFrequencyPerDay, change_failure_rate_percent: t.changeFailureRatePercent, time_to_recovery_hours: t.mttrHours },
    breaches: {
      deployment_frequency: m.deployment_frequency_per_day < t.deploymentFrequencyPerDay,
      change_failure_rate: over(m.change_failure_rate_percent, t.changeFailureRatePercent),
      lead_time: over(m.lead_time_hours, t.leadTimeHours),
      time_to_recovery: over(m.time_to_recovery_hours, t.mttrHours),
    },
    deployments_over_lead_time_target: inside.deployments.filter((d) => overLeadTimeTarget(d, t)).length,
    incidents_over_recovery_target: inside.incidents.filter((i) => overRecoveryTarget(i, t)).length,
  };
}

/** DORA-5's pipeline name: lower-case, trimmed, whitespace and underscores to hyphens; empty is `unknown`. */
export function normalizePipeline(pipeline: string | null | undefined): string {
  const name = (pipeline ?? '').trim().toLowerCase().replace(/[\s_]/g, '-');
  return name === '' ? 'unknown' : name;
}

export { INCIDENT_SEVERITIES };
