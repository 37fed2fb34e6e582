/**
 * The delivery half of the demo (DORA): the Release Orchestrator's last week for one tenant —
 * ten deployments of two services through two pipelines (two of them rolled back or
 * hot-fixed) and two incidents, acknowledged and resolved — recorded over the service's API,
 * then the tenant's DORA metrics and level read with `stella dora metrics`, as a release manager
 * would. The records are spaced from the time of the run, so the level is the same every run.
 */
import { stellaCli, type CliRun } from './stella-cli.js';
import type { Stack } from './stack.js';

const H = 3_600_000;
const D = 86_400_000;

/** The week's records, as offsets from the run: [deployed hours ago, lead time in hours, outcome, pipeline]. */
const DEPLOYMENTS: readonly [number, number, 'success' | 'rollback' | 'hotfix', string][] = [
  [150, 3, 'success', 'Release Train'],
  [130, 5, 'success', 'release_train'],
  [110, 4, 'rollback', 'Release Train'],
  [100, 6, 'success', 'hotfix lane'],
  [90, 8, 'success', 'release train'],
  [70, 5, 'hotfix', 'hotfix lane'],
  [50, 2, 'success', 'release train'],
  [30, 30, 'success', 'release train'],
  [20, 4, 'success', 'release train'],
  [10, 3, 'success', 'release train'],
];
/** [started hours ago, acknowledged after minutes, resolved after minutes, severity]. */
const INCIDENTS: readonly [number, number, number, 'sev1' | 'sev2'][] = [
  [109, 10, 45, 'sev1'],
  [69, 20, 150, 'sev2'],
];

export interface DoraOutcome {
  tenant: string;
  environment: string;
  deployments: number;
  incidents: number;
  /** Records the service refused (none expected). */
  refused: string[];
  metrics: CliRun;
}

export const DORA_ENVIRONMENT = 'production';

export async function recordReleaseWeek(stack: Stack, tenant: string, token: string): Promise<DoraOutcome> {
  const now = Date.now();
  const iso = (ms: number): string => new Date(ms).toISOString();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-stella-tenant': tenant };
  const refused: string[] = [];
  const send = async (method: string, path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${stack.stellaUrl}${path}`, { method, headers, body: JSON.stringify(body) });
    if (!res.ok) refused.push(`${method} ${path} → ${res.status} ${await res.text()}`);
  };
  // Run-unique ids: a kept data dir can run the demo again without colliding with last run's records.
  const run = now.toString(36);
  await Promise.all(
    DEPLOYMENTS.map(([ago, lead, outcome, pipeline], i) =>
      send('POST', '/dora/deployments', {
        deployment_id: `demo-${run}-${i + 1}`,
        service: i % 2 ? 'payments-api' : 'ledger-worker',
        environment: DORA_ENVIRONMENT,
        pipeline,
        commit_time: iso(now - (ago + lead) * H),
        deploy_time: iso(now - ago * H),
        outcome,
      }),
    ),
  );
  await Promise.all(
    INCIDENTS.map(([ago, ack, resolve, severity], i) => {
      const start = now - ago * H;
      return send('PUT', `/dora/incidents/demo-${run}-inc-${i + 1}`, {
        environment: DORA_ENVIRONMENT,
        service: 'payments-api',
        severity,
        started_at: iso(start),
        acknowledged_at: iso(start + ack * 60_000),
        resolved_at: iso(start + resolve * 60_000),
      });
    }),
  );
  const metrics = await stellaCli(['dora', 'metrics', '--env', DORA_ENVIRONMENT, '--from', iso(now - 7 * D), '--to', iso(now + 60_000)], { server: stack.stellaUrl, token, tenant });
  return { tenant, environment: DORA_ENVIRONMENT, deployments: DEPLOYMENTS.length, incidents: INCIDENTS.length, refused, metrics };
}

/** The level and the four metrics as one line, from `stella dora metrics --json`. */
export function doraLine(o: DoraOutcome): string {
  const m = o.metrics.json as
    | { deployments_total?: number; deployment_frequency_per_day?: number; lead_time_hours?: number | null; change_failure_rate_percent?: number | null; time_to_recovery_hours?: number | null; time_to_acknowledge_hours?: number | null; classification?: Record<string, string | null> }
    | undefined;
  if (!m?.classification) return `${o.tenant} ${o.environment}: no metrics`;
  const c = m.classification;
  const num = (v: number | null | undefined, unit: string): string => (v === null || v === undefined ? '—' : `${Number(v.toFixed(2))}${unit}`);
  return (
    `${o.tenant} ${o.environment}: DORA level ${String(c['overall']).toUpperCase()} — ` +
    `${m.deployments_total} deployments (${num(m.deployment_frequency_per_day, '/day')}, ${c['deployment_frequency']}), ` +
    `lead time ${num(m.lead_time_hours, ' h')} (${c['lead_time']}), change failure rate ${num(m.change_failure_rate_percent, ' %')} (${c['change_failure_rate']}), ` +
    `MTTR ${num(m.time_to_recovery_hours, ' h')} (${c['time_to_recovery']}), MTTA ${num(m.time_to_acknowledge_hours, ' h')}`
  );
}
