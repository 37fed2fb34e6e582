/**
 * OBS-1 read APIs over the embedded store: a trace as a tree, trace search (trace-search.ts),
 * log search with guardrails
 * (bounded window, result cap, tenant from the token — never from the query), and small
 * aggregates computed from server spans (`/obs/routes`: rate, error ratio and p95 per service
 * and route; a per-service health summary). Ingested metrics are queried at `/obs/metrics`
 * (metrics-routes.ts). For operators, `/obs/tenants` ranks every tenant by the telemetry it
 * sent (a platform-wide scope only: counts, never a tenant's records).
 */
import type { ServiceConfig } from '../config.js';
import { described } from '../http/openapi.js';
import type { TelemetryReader } from '../segments/telemetry-reader.js';
import type { ServiceApp } from '../service-feature.js';
import {
  HealthResponse,
  LogsQuery,
  LogsResponse,
  MAX_NOISY_TENANTS,
  RouteStatsResponse,
  TenantsQuery,
  TenantsResponse,
  TraceParams,
  TraceResponse,
  TracesQuery,
  TracesResponse,
  WindowQuery,
} from './obs-schemas.js';
import { queryWindow } from './time-window.js';
import { ServiceError } from '../errors.js';
import { MAX_SEARCH_RECORDS, parseAttributeFilter, searchTraces } from './trace-search.js';
import { loadTrace } from './trace-view.js';

export interface ObsRouteDeps {
  config: ServiceConfig;
  /** Reads of the telemetry store (flushes the index first: what was acknowledged is what is read). */
  reader: TelemetryReader;
  clock: () => number;
}

const HOUR_MS = 3_600_000;
/** Most traces one search answers (each is summarised from its stored records), unless STELLA_OBS_MAX_RESULTS is lower. */
const MAX_TRACES = 200;
const DEFAULT_TRACES = 20;
const SEVERITY_NAMES: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, WARNING: 13, ERROR: 17, FATAL: 21 };
const DEGRADED_ERROR_RATIO = 0.05;
const DEGRADED_P95_MS = 2000;

function severityFloor(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const named = SEVERITY_NAMES[value.toUpperCase()];
  if (named !== undefined) return named;
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1 && n <= 24) return n;
  throw new ServiceError('obs.window_invalid', 'severity must be TRACE, DEBUG, INFO, WARN, ERROR, FATAL or a severity number 1-24', { field: 'query.severity' });
}

export function obsRoutes(app: ServiceApp, deps: ObsRouteDeps): void {
  const { config, reader, clock } = deps;
  const maxHours = config.obsMaxWindowHours;
  const maxResults = config.obsMaxResults;

  app.get(
    '/obs/trace/:trace_id',
    {
      schema: {
        operationId: 'getTrace',
        summary: 'One trace: every stored span as a tree, with a deep link to the external trace UI when configured',
        tags: ['obs'],
        params: TraceParams,
        response: { 200: described("The trace's stored spans as a tree", TraceResponse) },
        'x-error-codes': ['obs.trace_id_invalid', 'obs.trace_not_found'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const traceId = request.params.trace_id.toLowerCase();
      if (!/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId)) {
        throw new ServiceError('obs.trace_id_invalid', 'a trace id is 32 hex characters (16 bytes), not all zero', { field: 'params.trace_id' });
      }
      const trace = await loadTrace(reader, tenant, traceId);
      if (!trace) throw new ServiceError('obs.trace_not_found', `no trace ${traceId} in this tenant's telemetry (kept ${config.telemetryTracesRetentionDays} days unless the tenant set otherwise)`, { field: 'params.trace_id' });
      return { ...trace, deep_link: config.traceDeepLink ? config.traceDeepLink.replaceAll('{trace_id}', traceId) : null };
    },
  );

  app.get(
    '/obs/traces',
    {
      schema: {
        operationId: 'searchTraces',
        summary: `Search the tenant's traces by service, route, status, duration and one attribute: window at most ${maxHours} h (default 1 h back from to), at most ${Math.min(MAX_TRACES, maxResults)} traces, newest first`,
        tags: ['obs'],
        querystring: TracesQuery,
        response: { 200: described('The matching traces, newest first, each summarised from its stored spans; truncated when more match than limit', TracesResponse) },
        'x-error-codes': ['obs.limit_too_large', 'obs.window_invalid', 'obs.window_too_wide', 'obs.attribute_invalid'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const q = request.query;
      const maxTraces = Math.min(MAX_TRACES, maxResults);
      const limit = q.limit ?? Math.min(DEFAULT_TRACES, maxTraces);
      if (limit > maxTraces) {
        throw new ServiceError('obs.limit_too_large', `limit may be 1 to ${maxTraces}; narrow the window or add filters (service, route, status, min_duration_ms, attribute)`, {
          field: 'query.limit',
          extra: { allowed: { min: 1, max: maxTraces } },
        });
      }
      const window = queryWindow(q, clock(), HOUR_MS, maxHours);
      const attribute = parseAttributeFilter(q.attribute);
      const result = await searchTraces(reader, tenant, {
        fromMs: window.fromMs,
        toMs: window.toMs,
        service: q.service,
        route: q.route,
        status: q.status,
        minDurationMs: q.min_duration_ms,
        attribute,
        limit,
      });
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        limits: { max_window_hours: maxHours, max_results: maxTraces, max_records_read: MAX_SEARCH_RECORDS },
        ...result,
      };
    },
  );

  app.get(
    '/obs/logs',
    {
      schema: {
        operationId: 'searchLogs',
        summary: `Search the tenant's logs: window at most ${maxHours} h (default 1 h back from to), at most ${maxResults} rows, newest first`,
        tags: ['obs'],
        querystring: LogsQuery,
        response: { 200: described('The matching log records, newest first; truncated when there were more than limit', LogsResponse) },
        'x-error-codes': ['obs.limit_too_large', 'obs.window_invalid', 'obs.window_too_wide'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const q = request.query;
      const limit = q.limit ?? Math.min(100, maxResults);
      if (limit > maxResults) {
        throw new ServiceError('obs.limit_too_large', `limit may be 1 to ${maxResults}; narrow the window or add filters (trace_id, service, severity, q)`, {
          field: 'query.limit',
          extra: { allowed: { min: 1, max: maxResults } },
        });
      }
      const window = queryWindow(q, clock(), HOUR_MS, maxHours);
      const floor = severityFloor(q.severity);
      const rows = await reader.searchLogs(tenant, { fromMs: window.fromMs, toMs: window.toMs, traceId: q.trace_id, minSeverity: floor, service: q.service, text: q.q, limit });
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        limits: { max_window_hours: maxHours, max_results: maxResults },
        truncated: rows.length > limit,
        logs: rows.slice(0, limit).map((r) => ({
          time: new Date(r.ts_ms).toISOString(),
          severity_number: r.severity,
          severity_text: r.severity_text,
          service: r.service,
          trace_id: r.trace_id,
          span_id: r.span_id,
          body: r.body,
          attributes: r.attributes,
        })),
      };
    },
  );

  app.get(
    '/obs/routes',
    {
      schema: {
        operationId: 'getRouteStats',
        summary: `Request rate, error ratio and p95 latency per service and route from ingress spans (window at most ${maxHours} h, default 1 h)`,
        tags: ['obs'],
        querystring: WindowQuery,
        response: { 200: described('One series per service and route over the window', RouteStatsResponse) },
        'x-error-codes': ['obs.window_invalid', 'obs.window_too_wide'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const window = queryWindow(request.query, clock(), HOUR_MS, maxHours);
      const rows = await reader.routeStats(tenant, { fromMs: window.fromMs, toMs: window.toMs, service: request.query.service, limit: maxResults });
      const seconds = (window.toMs - window.fromMs) / 1000;
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        series: rows.map((r) => ({
          service: r.service,
          route: r.route,
          requests: r.requests,
          request_rate_per_s: r.requests / seconds,
          errors: r.errors,
          error_ratio: r.requests > 0 ? r.errors / r.requests : 0,
          p95_ms: r.p95_ms,
        })),
      };
    },
  );

  app.get(
    '/obs/health',
    {
      schema: {
        operationId: 'getServiceHealth',
        summary: 'Per-service health from recent telemetry: last seen, error ratio, p95, and up / degraded / down',
        tags: ['obs'],
        querystring: WindowQuery,
        response: { 200: described('Each service seen in the look-back, up, degraded or down, with the thresholds used', HealthResponse) },
        'x-error-codes': ['obs.window_invalid', 'obs.window_too_wide'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const now = clock();
      // Health looks at the last 15 minutes by default; services seen in the day before but not since are "down".
      const window = queryWindow(request.query, now, 15 * 60_000, maxHours);
      const lookbackFrom = Math.max(window.toMs - maxHours * HOUR_MS, 0);
      const rows = await reader.serviceStats(tenant, { lookbackFromMs: lookbackFrom, fromMs: window.fromMs, toMs: window.toMs, service: request.query.service, limit: maxResults });
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        thresholds: { error_ratio_degraded: DEGRADED_ERROR_RATIO, p95_ms_degraded: DEGRADED_P95_MS },
        services: rows.map((r) => {
          const lastSeen = r.last_seen_ms;
          const requests = r.requests;
          const errorRatio = requests > 0 ? r.errors / requests : 0;
          const p95 = r.p95_ms;
          const status: 'up' | 'degraded' | 'down' = lastSeen < window.fromMs ? 'down' : errorRatio > DEGRADED_ERROR_RATIO || p95 > DEGRADED_P95_MS ? 'degraded' : 'up';
          return { service: r.service, status, last_seen: new Date(lastSeen).toISOString(), requests, error_ratio: errorRatio, p95_ms: p95 };
        }),
      };
    },
  );

  app.get(
    '/obs/tenants',
    {
      schema: {
        operationId: 'listNoisyTenants',
        summary: `Operators: the ${MAX_NOISY_TENANTS} tenants with the most indexed telemetry (spans, logs, metric points) in the last window minutes (platform-wide scope only)`,
        tags: ['obs'],
        querystring: TenantsQuery,
        response: { 200: described('The tenants with telemetry in the window, most first, with their counts per signal', TenantsResponse) },
      },
    },
    async (request) => {
      const toMs = clock();
      const fromMs = toMs - (request.query.window ?? 60) * 60_000;
      const tenants = await reader.tenantVolumes({ fromMs, toMs });
      return { window: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() }, tenants: tenants.slice(0, MAX_NOISY_TENANTS) };
    },
  );
}
