/**
 * `stella dora …` (DORA-1, DORA-2, DORA-5): delivery metrics of the service.
 *
 * - record deployment|incident: records one deployment (`POST /dora/deployments`, idempotent by
 *   id) or creates or updates one incident (`PUT /dora/incidents/{id}`), for scripts and release
 *   pipelines without the bus.
 * - metrics: the four key metrics, MTTA, their levels and the SLO targets' breaches over a
 *   window (`GET /dora/metrics`).
 * - report: the executive outcome report (`GET /dora/report`): by pipeline, by severity, by day.
 *
 * Every command takes --server, --token and --tenant (or $STELLA_*), sends its own W3C
 * `traceparent` and prints the trace id; `--json` prints the service's answer with it.
 */
import type { Command } from 'commander';
import { withServerOptions, type CommandContext, type ServerOptions } from '../context.js';
import { CliError } from '../output.js';
import { connect, requestJson, traced } from '../service-client.js';

const OUTCOMES = ['success', 'rollback', 'hotfix', 'failed'];
const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'];

type Level = 'elite' | 'high' | 'medium' | 'low' | null;

interface Metrics {
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

interface Classification {
  deployment_frequency: Level;
  lead_time: Level;
  change_failure_rate: Level;
  time_to_recovery: Level;
  overall: Level;
}

interface MetricsAnswer extends Metrics {
  tenant: string;
  environment: string | null;
  from: string;
  to: string;
  classification: Classification;
  slo: { breaches: Record<string, boolean | null>; deployments_over_lead_time_target: number; incidents_over_recovery_target: number; targets: Record<string, number> };
}

interface ReportAnswer {
  tenant: string;
  environment: string | null;
  from: string;
  to: string;
  metrics: Metrics;
  classification: Classification;
  mtta_hours: number | null;
  mttr_hours: number | null;
  pipelines: { pipeline: string; deployments: number; failures: number; change_failure_rate_percent: number | null; median_lead_time_hours: number | null }[];
  severities: { severity: string; incidents: number; acknowledged: number; resolved: number; mtta_hours: number | null; mttr_hours: number | null }[];
  cohorts: { date: string; deployments: number; failures: number; incidents_opened: number; incidents_resolved: number }[];
}

function time(flag: string, value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/.test(value) || !Number.isFinite(ms)) {
    throw new CliError('usage', `${flag} must be an RFC 3339 time with an offset such as 2026-01-01T00:00:00Z, not "${value}"`);
  }
  return value;
}

function choice(flag: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new CliError('usage', `${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value;
}

const hours = (h: number | null): string => (h === null ? '—' : h >= 100 ? `${h.toFixed(0)} h` : `${h.toFixed(2)} h`);
const pct = (p: number | null): string => (p === null ? '—' : `${p.toFixed(1)} %`);
const level = (l: Level): string => l ?? 'n/a';

function windowQuery(opts: { env?: string; from?: string; to?: string }): string {
  const q = new URLSearchParams();
  if (opts.env) q.set('environment', opts.env);
  if (opts.from) q.set('from', time('--from', opts.from));
  if (opts.to) q.set('to', time('--to', opts.to));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A text table: columns as wide as their widest cell, all but the first right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`);
}

function summaryLines(scope: { tenant: string; environment: string | null; from: string; to: string }, m: Metrics, c: Classification): string[] {
  return [
    `DORA for ${scope.tenant}, ${scope.environment ? `environment ${scope.environment}` : 'all environments'}, ${scope.from} to ${scope.to} (${Number(m.window_days.toFixed(3))} days)`,
    `level ${level(c.overall).toUpperCase()}: deployment frequency ${level(c.deployment_frequency)}, lead time ${level(c.lead_time)}, change failure rate ${level(c.change_failure_rate)}, time to recovery ${level(c.time_to_recovery)}`,
    `deployments ${m.deployments_total} (${m.deployment_frequency_per_day.toFixed(2)}/day), ${m.deployment_failures_total} failed; lead time ${hours(m.lead_time_hours)} (median); change failure rate ${pct(m.change_failure_rate_percent)}`,
    `incidents ${m.incidents_total} (${m.incidents_acknowledged} acknowledged, ${m.incidents_resolved} resolved); MTTA ${hours(m.time_to_acknowledge_hours)}; MTTR ${hours(m.time_to_recovery_hours)}`,
  ];
}

export function registerDora(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const dora = program.command('dora').description('DORA delivery metrics: record deployments and incidents, metrics, levels and the executive outcome report');
  const record = dora.command('record').description('record one deployment or incident (for scripts; the Release Orchestrator records over the bus)');

  ctx.action(
    withServerOptions(
      record
        .command('deployment')
        .description('record a deployment (POST /dora/deployments; the same id with the same content again is a no-op, with other content a 409)')
        .requiredOption('--id <deployment_id>', 'the deployment id')
        .requiredOption('--service <name>', 'the service deployed')
        .requiredOption('--env <environment>', 'the environment deployed to')
        .option('--pipeline <name>', 'the pipeline that deployed it', '')
        .requiredOption('--commit-time <time>', "the change's commit time (RFC 3339)")
        .requiredOption('--deploy-time <time>', 'the deployment time (RFC 3339)')
        .requiredOption('--outcome <outcome>', `one of ${OUTCOMES.join(', ')}`),
    ),
    async (_args, opts: ServerOptions & { id: string; service: string; env: string; pipeline: string; commitTime: string; deployTime: string; outcome: string }) => {
      const body = {
        deployment_id: opts.id,
        service: opts.service,
        environment: opts.env,
        pipeline: opts.pipeline,
        commit_time: time('--commit-time', opts.commitTime),
        deploy_time: time('--deploy-time', opts.deployTime),
        outcome: choice('--outcome', opts.outcome, OUTCOMES),
      };
      const conn = connect(opts, io);
      const res = await requestJson<{ created: boolean; deployment: Record<string, unknown> }>(conn, 'POST', '/dora/deployments', body);
      return traced(conn.traceId, true, res, [`${res.created ? 'recorded' : 'already recorded'} deployment ${opts.id} of ${opts.service} to ${opts.env} (${opts.outcome})`]);
    },
  );

  ctx.action(
    withServerOptions(
      record
        .command('incident')
        .description('create or update an incident (PUT /dora/incidents/{id})')
        .requiredOption('--id <incident_id>', 'the incident id')
        .requiredOption('--env <environment>', 'the environment affected')
        .option('--service <name>', 'the service affected')
        .requiredOption('--severity <severity>', `one of ${SEVERITIES.join(', ')}`)
        .requiredOption('--started-at <time>', 'when it started (RFC 3339)')
        .option('--acknowledged-at <time>', 'when it was acknowledged (RFC 3339)')
        .option('--resolved-at <time>', 'when it was resolved (RFC 3339)'),
    ),
    async (_args, opts: ServerOptions & { id: string; env: string; service?: string; severity: string; startedAt: string; acknowledgedAt?: string; resolvedAt?: string }) => {
      const body = {
        environment: opts.env,
        ...(opts.service ? { service: opts.service } : {}),
        severity: choice('--severity', opts.severity, SEVERITIES),
        started_at: time('--started-at', opts.startedAt),
        ...(opts.acknowledgedAt ? { acknowledged_at: time('--acknowledged-at', opts.acknowledgedAt) } : {}),
        ...(opts.resolvedAt ? { resolved_at: time('--resolved-at', opts.resolvedAt) } : {}),
      };
      const conn = connect(opts, io);
      const res = await requestJson<{ created: boolean; incident: Record<string, unknown> }>(conn, 'PUT', `/dora/incidents/${encodeURIComponent(opts.id)}`, body);
      const state = opts.resolvedAt ? 'resolved' : opts.acknowledgedAt ? 'acknowledged' : 'open';
      return traced(conn.traceId, true, res, [`${res.created ? 'recorded' : 'updated'} incident ${opts.id} (${opts.severity}, ${state}) in ${opts.env}`]);
    },
  );

  ctx.action(
    withServerOptions(
      dora
        .command('metrics')
        .description('the four key metrics, MTTA, their levels and SLO breaches over a window (GET /dora/metrics)')
        .option('--env <environment>', 'one environment (default: all)')
        .option('--from <time>', 'window start, RFC 3339 (default: 30 days before --to)')
        .option('--to <time>', 'window end, exclusive, RFC 3339 (default: now)'),
    ),
    async (_args, opts: ServerOptions & { env?: string; from?: string; to?: string }) => {
      const query = windowQuery(opts);
      const conn = connect(opts, io);
      const m = await requestJson<MetricsAnswer>(conn, 'GET', `/dora/metrics${query}`);
      const breached = Object.entries(m.slo.breaches).filter(([, b]) => b === true).map(([k]) => k);
      return traced(conn.traceId, true, m as unknown as Record<string, unknown>, [
        ...summaryLines(m, m, m.classification),
        `SLO targets: ${breached.length ? `breached: ${breached.join(', ')}` : 'met'}; ${m.slo.deployments_over_lead_time_target} deployment(s) over the lead-time target, ${m.slo.incidents_over_recovery_target} incident(s) over the recovery target`,
      ]);
    },
  );

  ctx.action(
    withServerOptions(
      dora
        .command('report')
        .description('the executive outcome report: MTTA and MTTR, deployments by pipeline, incidents by severity, one cohort per UTC day (GET /dora/report)')
        .option('--env <environment>', 'one environment (default: all)')
        .requiredOption('--from <time>', 'window start, RFC 3339')
        .requiredOption('--to <time>', 'window end, exclusive, RFC 3339'),
    ),
    async (_args, opts: ServerOptions & { env?: string; from: string; to: string }) => {
      const query = windowQuery(opts);
      const conn = connect(opts, io);
      const r = await requestJson<ReportAnswer>(conn, 'GET', `/dora/report${query}`);
      return traced(conn.traceId, true, r as unknown as Record<string, unknown>, [
        ...summaryLines(r, r.metrics, r.classification),
        '',
        'Deployments by pipeline',
        ...table(
          ['pipeline', 'deployments', 'failures', 'CFR', 'median lead time'],
          r.pipelines.map((p) => [p.pipeline, String(p.deployments), String(p.failures), pct(p.change_failure_rate_percent), hours(p.median_lead_time_hours)]),
        ),
        '',
        'Incidents by severity',
        ...table(
          ['severity', 'incidents', 'acknowledged', 'resolved', 'MTTA', 'MTTR'],
          r.severities.map((s) => [s.severity, String(s.incidents), String(s.acknowledged), String(s.resolved), hours(s.mtta_hours), hours(s.mttr_hours)]),
        ),
        '',
        'Daily cohorts (UTC)',
        ...table(
          ['date', 'deployments', 'failures', 'incidents opened', 'of them resolved'],
          r.cohorts.map((c) => [c.date, String(c.deployments), String(c.failures), String(c.incidents_opened), String(c.incidents_resolved)]),
        ),
      ]);
    },
  );
}
