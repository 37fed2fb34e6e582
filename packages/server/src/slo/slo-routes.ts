/**
 * `GET /obs/slo` (SLO-2): each SLO with its SLI, the error budget left over its period and the
 * burn rate of every window pair, for the caller's tenant — the latest evaluation, or one made
 * at `at`. `POST /telemetry/alerts/alertmanager` (SLO-6, INC-3): Alertmanager's webhook; a
 * firing `SLOErrorBudgetBurn` with `severity="page"` acts like a breach the service found
 * itself (slo-breaches.ts), a resolved one resolves the breach it opened.
 *
 * The receiver authenticates like every other route: a bearer token with
 * `stella:incident:admin` for the tenant (Alertmanager's `http_config.authorization` with a
 * `credentials_file`). The tenant is the token's, so an alert can never act on another tenant;
 * an alert labelled with another tenant (`stella_tenant_id` or `tenant`) is ignored.
 */
import { SLO_BURN_ALERT, sloBurnRateAlerts, type Slo } from '@stellaops/collector-config';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import type { MetricsQuery } from '../obs/metrics-query.js';
import type { ServiceApp } from '../service-feature.js';
import { breachFingerprint, type SloBreach } from './slo-breach.js';
import type { SloBreaches } from './slo-breaches.js';
import type { SloEvaluationJob } from './slo-evaluation-job.js';
import type { SloEvaluator, TenantEvaluation } from './slo-evaluator.js';
import { AlertmanagerPayload, AlertmanagerResponse, SloQuery, SloResponse } from './slo-schemas.js';

export interface SloRouteDeps {
  config: ServiceConfig;
  slos: readonly Slo[];
  metrics: MetricsQuery;
  evaluator: SloEvaluator;
  job: SloEvaluationJob;
  breaches: SloBreaches;
  clock: () => number;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** Breaches listed with the SLO status. */
const RECENT_BREACHES = 20;
const TENANT_LABELS = ['stella_tenant_id', 'tenant'];

function parseAt(at: string, nowMs: number): number {
  const ms = INSTANT.test(at) ? Date.parse(at) : NaN;
  if (Number.isNaN(ms)) throw new ServiceError('obs.window_invalid', 'at must be an RFC 3339 date-time with a zone, e.g. 2025-03-01T10:00:00Z', { field: 'query.at' });
  if (ms > nowMs) throw new ServiceError('obs.window_invalid', `at (${new Date(ms).toISOString()}) is after now: there is nothing to evaluate yet`, { field: 'query.at' });
  return ms;
}

interface AlertResult {
  fingerprint: string | null;
  alertname: string | null;
  slo: string | null;
  long_window: string | null;
  status: string;
  outcome: 'opened' | 'already_open' | 'resolved' | 'not_open' | 'ignored';
  reason: string | null;
  breach: SloBreach | null;
}

export function sloRoutes(app: ServiceApp, deps: SloRouteDeps): void {
  const { config, slos, metrics, evaluator, job, breaches, clock } = deps;

  app.get(
    '/obs/slo',
    {
      schema: {
        operationId: 'getSloStatus',
        summary: "Each SLO's SLI, remaining error budget and the burn rate of every window pair for the tenant, from the latest evaluation or at a given instant",
        tags: ['obs'],
        querystring: SloQuery,
        response: { 200: described("The tenant's SLOs as evaluated, and its latest breaches", SloResponse) },
        'x-error-codes': ['slo.not_found', 'obs.window_invalid', 'obs.metrics_unavailable', 'obs.metrics_backend_failed'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const { slo: name, at } = request.query;
      const selected = name === undefined ? slos : slos.filter((s) => s.name === name);
      if (name !== undefined && selected.length === 0) {
        throw new ServiceError('slo.not_found', `no SLO named "${name}" is loaded from ${config.sloDir}`, { field: 'query.slo', extra: { allowed: { slos: slos.map((s) => s.name) } } });
      }
      let evaluation: TenantEvaluation;
      if (at !== undefined) evaluation = await evaluator.evaluate(tenant, selected, parseAt(at, clock()));
      else evaluation = job.latestFor(tenant) ?? (await job.evaluateTenant(tenant, { act: false })).evaluation;
      return {
        tenant,
        source: metrics.source,
        evaluated_at: new Date(evaluation.atMs).toISOString(),
        interval_seconds: config.sloEvaluationIntervalMs / 1000,
        slos: evaluation.slos.filter((s) => name === undefined || s.name === name),
        breaches: (await breaches.recent(tenant, RECENT_BREACHES)).filter((b) => name === undefined || b.slo === name),
        evaluation: { failures: job.health.failures, last_failure_at: job.health.lastFailureAt === undefined ? null : new Date(job.health.lastFailureAt).toISOString() },
      };
    },
  );

  app.post(
    '/telemetry/alerts/alertmanager',
    {
      schema: {
        operationId: 'receiveAlertmanagerAlerts',
        summary: "Alertmanager's webhook: firing SLOErrorBudgetBurn page alerts act as SLO breaches of the token's tenant (bus event, webhooks, incident mode); resolved ones resolve them",
        tags: ['incident'],
        body: AlertmanagerPayload,
        response: { 200: described('What was done with each alert', AlertmanagerResponse) },
        'x-error-codes': [],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const now = clock();
      const results: AlertResult[] = [];
      for (const alert of request.body.alerts) {
        const labels = alert.labels;
        const base = {
          fingerprint: alert.fingerprint ?? null,
          alertname: labels['alertname'] ?? null,
          slo: labels['slo'] ?? null,
          long_window: labels['long_window'] ?? null,
          status: alert.status,
          breach: null,
        };
        const ignore = (reason: string): void => void results.push({ ...base, outcome: 'ignored', reason });
        if (labels['alertname'] !== SLO_BURN_ALERT) {
          ignore(`not ${SLO_BURN_ALERT}`);
          continue;
        }
        if (labels['severity'] !== 'page') {
          ignore('not severity="page"');
          continue;
        }
        const other = TENANT_LABELS.map((l) => labels[l]).find((v) => v !== undefined && v !== tenant);
        if (other !== undefined) {
          ignore(`labelled for tenant "${other}", not the token's`);
          continue;
        }
        const sloName = labels['slo'];
        const longWindow = labels['long_window'];
        if (!sloName || !longWindow) {
          ignore('no slo or long_window label');
          continue;
        }
        const slo = slos.find((s) => s.name === sloName);
        const pair = slo ? sloBurnRateAlerts(slo).find((p) => p.longWindow === longWindow && p.severity === 'page') : undefined;
        const service = labels['service'] ?? slo?.service;
        if (!service) {
          ignore('no service label and an SLO this service does not load');
          continue;
        }
        if (alert.status === 'resolved') {
          const resolved = await breaches.resolve(tenant, breachFingerprint(tenant, sloName, service, 'page', longWindow), 'alertmanager', parseTime(alert.endsAt) ?? now);
          results.push({ ...base, outcome: resolved ? 'resolved' : 'not_open', reason: null, breach: resolved ?? null });
          continue;
        }
        const outcome = await breaches.fire({
          tenant,
          slo: sloName,
          service,
          severity: 'page',
          longWindow,
          shortWindow: pair?.shortWindow ?? labels['short_window'] ?? '',
          source: 'alertmanager',
          // The alert fires only while both windows burn at least this fast.
          burnRate: pair?.burnRate ?? 0,
          startedAtMs: Math.min(parseTime(alert.startsAt) ?? now, now),
          known: pair !== undefined,
          summary: alert.annotations?.['summary'],
          description: alert.annotations?.['description'],
          runbookUrl: alert.annotations?.['runbook_url'],
        });
        results.push({ ...base, outcome: outcome.opened ? 'opened' : 'already_open', reason: pair ? null : `SLO "${sloName}" (${longWindow}) is not loaded here: no incident mode`, breach: outcome.breach });
      }
      return { tenant, alerts: results };
    },
  );
}

function parseTime(text: string | undefined): number | undefined {
  if (!text || text.startsWith('0001-')) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
