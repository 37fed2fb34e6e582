/**
 * `GET /obs/metrics` (OBS-2): one metric of the tenant as series of points over a window —
 * a counter's rate per second over each step, a gauge's value, a histogram's quantile (or its
 * observation rate) — answered by the embedded store or by Prometheus through the same
 * `MetricsQuery`. Guardrails as for logs: the tenant comes from the token, the window is
 * bounded (`STELLA_OBS_MAX_WINDOW_HOURS`), and so are the series (`STELLA_OBS_METRICS_MAX_SERIES`)
 * and the points per series (`STELLA_OBS_METRICS_MAX_POINTS`); a request past one is a 400 that
 * names the limit.
 */
import { parseSelector, type LabelMatcher } from '@stellaops/collector-config';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import type { MetricsQuery } from './metrics-query.js';
import { MetricSeriesResponse, MetricsQueryString } from './obs-schemas.js';
import { parseShortDuration, queryWindow } from './time-window.js';

const HOUR_MS = 3_600_000;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Points a default step aims at. */
const DEFAULT_POINTS = 300;
const MIN_DEFAULT_STEP_MS = 60_000;

export interface MetricsRouteDeps {
  config: ServiceConfig;
  metrics: MetricsQuery;
  clock: () => number;
}

/** The label matchers of `match` (`{job="api"}`, `job="api"`, or `<name>{...}`). */
export function parseMatch(match: string | undefined, name: string): LabelMatcher[] {
  const text = (match ?? '').trim();
  if (text === '') return [];
  const full = text.startsWith('{') ? `${name}${text}` : text.includes('{') ? text : `${name}{${text}}`;
  let selector;
  try {
    selector = parseSelector(full);
  } catch (error) {
    throw new ServiceError('obs.match_invalid', `match must be label matchers such as {job="api",http_response_status_code=~"5.."}: ${(error as Error).message}`, { field: 'query.match' });
  }
  if (selector.metricName !== name) throw new ServiceError('obs.match_invalid', `match names the metric ${selector.metricName ?? '(none)'}, but name is ${name}`, { field: 'query.match' });
  if (selector.matchers.some((m) => m.name === '__name__')) throw new ServiceError('obs.match_invalid', 'match may not select by __name__: name the metric with name=', { field: 'query.match' });
  return [...selector.matchers];
}

/** Step in ms: `30` (seconds), `15s`, `1m`, `1h`; default the window / 300, at least 60 s. */
export function parseStep(step: string | undefined, windowMs: number): number {
  if (step === undefined) return Math.max(MIN_DEFAULT_STEP_MS, Math.ceil(windowMs / DEFAULT_POINTS / 1000) * 1000);
  const ms = /^\d{1,7}$/.test(step) ? Number(step) * 1000 : parseShortDuration(step);
  if (ms === undefined || ms < 1000) throw new ServiceError('obs.step_invalid', `step must be whole seconds (30, 15s, 1m, 1h) of at least 1 s, not "${step.slice(0, 20)}"`, { field: 'query.step' });
  if (ms > windowMs) throw new ServiceError('obs.step_invalid', `step (${ms / 1000} s) is longer than the window (${windowMs / 1000} s)`, { field: 'query.step' });
  return ms;
}

export function parseQuantile(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const q = Number(text);
  if (text.trim() === '' || !Number.isFinite(q) || q < 0 || q > 1) throw new ServiceError('obs.quantile_invalid', `quantile must be a number from 0 to 1 (e.g. 0.95), not "${text.slice(0, 20)}"`, { field: 'query.quantile' });
  return q;
}

export function metricsRoutes(app: ServiceApp, deps: MetricsRouteDeps): void {
  const { config, metrics, clock } = deps;
  const maxHours = config.obsMaxWindowHours;
  const maxSeries = config.obsMetricsMaxSeries;
  const maxPoints = config.obsMetricsMaxPoints;

  app.get(
    '/obs/metrics',
    {
      schema: {
        operationId: 'queryMetrics',
        summary: `One of the tenant's metrics as series over a window (at most ${maxHours} h, default 1 h): rates of counters, values of gauges, quantiles of histograms; from ${metrics.source === 'prometheus' ? 'Prometheus' : 'the embedded store'}`,
        tags: ['obs'],
        querystring: MetricsQueryString,
        response: { 200: described('The series of the metric that match, each with its points', MetricSeriesResponse) },
        'x-error-codes': [
          'obs.metric_name_invalid',
          'obs.match_invalid',
          'obs.window_invalid',
          'obs.window_too_wide',
          'obs.step_invalid',
          'obs.too_many_points',
          'obs.quantile_invalid',
          'obs.too_many_series',
          'obs.metrics_unavailable',
          'obs.metrics_backend_failed',
        ],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const q = request.query;
      const name = q.name ?? '';
      if (!METRIC_NAME.test(name)) {
        throw new ServiceError('obs.metric_name_invalid', `name ${q.name === undefined ? 'is required' : 'must be a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)'}, such as http_server_request_duration_seconds`, { field: 'query.name' });
      }
      const matchers = parseMatch(q.match, name);
      const window = queryWindow(q, clock(), HOUR_MS, maxHours);
      const windowMs = window.toMs - window.fromMs;
      const stepMs = parseStep(q.step, windowMs);
      const points = Math.floor(windowMs / stepMs) + 1;
      if (points > maxPoints) {
        const minStep = Math.ceil(windowMs / (maxPoints - 1) / 1000);
        throw new ServiceError('obs.too_many_points', `${points} points per series is more than ${maxPoints}: use a step of at least ${minStep} s or a shorter window`, {
          field: 'query.step',
          extra: { allowed: { max_points: maxPoints, min_step_seconds: minStep } },
        });
      }
      const quantile = parseQuantile(q.quantile);
      const answer = await metrics.range(tenant, { name, matchers, fromMs: window.fromMs, toMs: window.toMs, stepMs, quantile, maxSeries });
      return {
        name,
        type: answer.type,
        source: metrics.source,
        value: answer.meaning,
        quantile: quantile ?? null,
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        step_seconds: stepMs / 1000,
        limits: { max_window_hours: maxHours, max_series: maxSeries, max_points: maxPoints },
        series: answer.series,
      };
    },
  );
}
