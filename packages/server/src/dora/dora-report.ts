/**
 * DORA-5, pure: the executive outcome report for a tenant, an environment (or all) and a window
 * [from, to) — the window's metrics and levels, MTTA and MTTR; deployments by normalised
 * pipeline with each pipeline's change failure rate and median lead time; incidents by severity
 * (sev1..sev4, always all four) with acknowledged and resolved counts and MTTA/MTTR; and one
 * cohort per UTC day of the range.
 *
 * A day's cohort holds the deployments deployed that day and how many of them failed, and the
 * incidents opened (started) that day and how many of those are resolved — a cohort follows the
 * incidents it opened, whenever they were resolved. The first and last cohorts cover the parts
 * of their days inside the window.
 *
 * Deterministic: pipelines in ordinal order of their names, severities in their order, days in
 * order; every number is computed from integer milliseconds in a fixed way, and the report holds
 * no time of its own making — the same records give the same report, byte for byte.
 */
import {
  classifyDora,
  computeDoraMetrics,
  INCIDENT_SEVERITIES,
  isFailure,
  leadTimeMs,
  meanHours,
  medianHours,
  MS_PER_DAY,
  normalizePipeline,
  percentOf,
  withinWindow,
  type Deployment,
  type DoraClassification,
  type DoraMetrics,
  type DoraWindow,
  type Incident,
} from './dora-metrics.js';
import type { IncidentSeverity } from './dora-records.js';

export interface PipelineOutcome {
  pipeline: string;
  deployments: number;
  failures: number;
  change_failure_rate_percent: number | null;
  median_lead_time_hours: number | null;
}

export interface SeverityOutcome {
  severity: IncidentSeverity;
  incidents: number;
  acknowledged: number;
  resolved: number;
  mtta_hours: number | null;
  mttr_hours: number | null;
}

export interface DailyCohort {
  /** The UTC day, `YYYY-MM-DD`. */
  date: string;
  deployments: number;
  failures: number;
  incidents_opened: number;
  /** Of the incidents opened this day, those resolved. */
  incidents_resolved: number;
}

export interface DoraOutcomeReport {
  tenant: string;
  /** null: every environment. */
  environment: string | null;
  from: string;
  to: string;
  metrics: DoraMetrics;
  classification: DoraClassification;
  mtta_hours: number | null;
  mttr_hours: number | null;
  pipelines: PipelineOutcome[];
  severities: SeverityOutcome[];
  cohorts: DailyCohort[];
}

/** The UTC days the window touches: from the day of `from` to the day of the window's last millisecond. */
export function windowDays(w: DoraWindow): string[] {
  const days: string[] = [];
  for (let day = Math.floor(w.fromMs / MS_PER_DAY); day <= Math.floor((w.toMs - 1) / MS_PER_DAY); day++) days.push(new Date(day * MS_PER_DAY).toISOString().slice(0, 10));
  return days;
}

const dayOf = (ms: number): string => new Date(Math.floor(ms / MS_PER_DAY) * MS_PER_DAY).toISOString().slice(0, 10);
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildOutcomeReport(
  scope: { tenant: string; environment: string | null },
  allDeployments: readonly Deployment[],
  allIncidents: readonly Incident[],
  w: DoraWindow,
): DoraOutcomeReport {
  const { deployments, incidents } = withinWindow(allDeployments, allIncidents, w);
  const metrics = computeDoraMetrics(deployments, incidents, w);

  const pipelines = new Map<string, Deployment[]>();
  for (const d of deployments) {
    const name = normalizePipeline(d.pipeline);
    let list = pipelines.get(name);
    if (!list) pipelines.set(name, (list = []));
    list.push(d);
  }
  const pipelineRows = [...pipelines.keys()].sort(byName).map((pipeline): PipelineOutcome => {
    const list = pipelines.get(pipeline)!;
    const failures = list.filter(isFailure).length;
    return { pipeline, deployments: list.length, failures, change_failure_rate_percent: percentOf(failures, list.length), median_lead_time_hours: medianHours(list.map(leadTimeMs)) };
  });

  const severities = INCIDENT_SEVERITIES.map((severity): SeverityOutcome => {
    const list = incidents.filter((i) => i.severity === severity);
    const acknowledged = list.filter((i) => i.acknowledgedMs !== null);
    const resolved = list.filter((i) => i.resolvedMs !== null);
    return {
      severity,
      incidents: list.length,
      acknowledged: acknowledged.length,
      resolved: resolved.length,
      mtta_hours: meanHours(acknowledged.map((i) => i.acknowledgedMs! - i.startedMs)),
      mttr_hours: meanHours(resolved.map((i) => i.resolvedMs! - i.startedMs)),
    };
  });

  const cohorts = new Map<string, DailyCohort>(windowDays(w).map((date) => [date, { date, deployments: 0, failures: 0, incidents_opened: 0, incidents_resolved: 0 }]));
  for (const d of deployments) {
    const c = cohorts.get(dayOf(d.deployMs))!;
    c.deployments++;
    if (isFailure(d)) c.failures++;
  }
  for (const i of incidents) {
    const c = cohorts.get(dayOf(i.startedMs))!;
    c.incidents_opened++;
    if (i.resolvedMs !== null) c.incidents_resolved++;
  }

  return {
    tenant: scope.tenant,
    environment: scope.environment,
    from: new Date(w.fromMs).toISOString(),
    to: new Date(w.toMs).toISOString(),
    metrics,
    classification: classifyDora(metrics),
    mtta_hours: metrics.time_to_acknowledge_hours,
    mttr_hours: metrics.time_to_recovery_hours,
    pipelines: pipelineRows,
    severities,
    cohorts: [...cohorts.values()],
  };
}
