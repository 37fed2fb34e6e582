/**
 * Grafana dashboards for StellaOps (SPEC SLO-5) as typed specs: ingestion, policy, export,
 * attestation, telemetry stack health and console security. `dashboardJson` renders the
 * importable JSON; `writeDashboards` writes the shipped set (deploy/dashboards).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attestationDashboard } from './attestation.js';
import { consoleSecurityDashboard } from './console-security.js';
import { exportDashboard } from './export.js';
import { ingestionDashboard } from './ingestion.js';
import type { DashboardSpec } from './model.js';
import { policyDashboard } from './policy.js';
import { dashboardJson } from './render.js';
import { telemetryHealthDashboard } from './telemetry-health.js';

export type { DashboardSpec, MetricSource, PanelSpec, QuerySpec, RowSpec, ThresholdSpec } from './model.js';
export { dashboardJson, renderDashboard, DATASOURCE, EXEMPLAR_TRACE_FIELD, SCHEMA_VERSION, TRACE_LINK_URL } from './render.js';
export { DENIAL_SCOPES, PRIVILEGED_ROUTES } from './route-scopes.js';
export { METRICS, SERVICE_JOB } from './promql.js';

/** The shipped dashboards, in the order the docs list them. */
export const DASHBOARDS: readonly DashboardSpec[] = Object.freeze([
  ingestionDashboard,
  policyDashboard,
  exportDashboard,
  attestationDashboard,
  telemetryHealthDashboard,
  consoleSecurityDashboard,
]);

/** File name of a dashboard: `<uid>.json`. */
export function dashboardFileName(spec: DashboardSpec): string {
  return `${spec.uid}.json`;
}

/** The shipped files: name → text. */
export function dashboardFiles(specs: readonly DashboardSpec[] = DASHBOARDS): Map<string, string> {
  return new Map(specs.map((s) => [dashboardFileName(s), dashboardJson(s)]));
}

/** Writes every dashboard into `dir`; returns the paths written. */
export async function writeDashboards(dir: string, specs: readonly DashboardSpec[] = DASHBOARDS): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of dashboardFiles(specs)) {
    const path = join(dir, name);
    await writeFile(path, text);
    written.push(path);
  }
  return written;
}
