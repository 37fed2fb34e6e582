/**
 * OBS-1 read APIs over the embedded store: a trace as a tree, log search with guardrails
 * (bounded window, result cap, tenant from the token — never from the query), and small
 * aggregates computed from server spans (rate, error ratio, p95 per service and route; a
 * per-service health summary).
 */
import type { ServiceConfig } from '../config.js';
import { described } from '../http/openapi.js';
import type { SegmentStore } from '../segments/segment-store.js';
import type { ServiceApp } from '../service-feature.js';
import type { SqlStore } from '../store/sql-store.js';
import { HealthResponse, LogsQuery, LogsResponse, MetricsResponse, TraceParams, TraceResponse, WindowQuery } from './obs-schemas.js';
import { queryWindow } from './time-window.js';
import { ServiceError } from '../errors.js';
import { loadTrace } from './trace-view.js';

export interface ObsRouteDeps {
  config: ServiceConfig;
  store: SqlStore;
  segments: SegmentStore;
  clock: () => number;
  /** Flushes the index before answering, so what was acknowledged is what is read. */
  flushIndex: () => Promise<void>;
}

const HOUR_MS = 3_600_000;
const SEVERITY_NAMES: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, WARNING: 13, ERROR: 17, FATAL: 21 };
/** Ingress spans: SERVER (HTTP/gRPC) and CONSUMER (jobs, messages). */
const INGRESS_KINDS = '(2, 5)';
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
  const { config, store, segments, clock } = deps;
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
      await deps.flushIndex();
      const trace = await loadTrace(store, segments, tenant, traceId);
      if (!trace) throw new ServiceError('obs.trace_not_found', `no trace ${traceId} in this tenant's telemetry (kept ${config.telemetryTracesRetentionDays} days unless the tenant set otherwise)`, { field: 'params.trace_id' });
      return { ...trace, deep_link: config.traceDeepLink ? config.traceDeepLink.replaceAll('{trace_id}', traceId) : null };
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
      const window = queryWindow(q.from, q.to, clock(), HOUR_MS, maxHours);
      const floor = severityFloor(q.severity);
      await deps.flushIndex();
      const where = ['tenant_id = $1', 'ts_ms >= $2', 'ts_ms < $3'];
      const params: unknown[] = [tenant, window.fromMs, window.toMs];
      const add = (clause: string, value: unknown): void => {
        params.push(value);
        where.push(clause.replace('?', `$${params.length}`));
      };
      if (q.trace_id) add('trace_id = ?', q.trace_id.toLowerCase());
      if (floor !== undefined) add('severity >= ?', floor);
      if (q.service) add('service = ?', q.service);
      if (q.q) add("body ILIKE ? ESCAPE '\\'", `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      params.push(limit + 1);
      const rows = await store.tenantTransaction(tenant, (tx) =>
        tx.query<{ ts_ms: string; severity: number; severity_text: string | null; service: string; trace_id: string | null; span_id: string | null; body: string; attributes: unknown }>(
          `SELECT ts_ms, severity, severity_text, service, trace_id, span_id, body, attributes FROM telemetry_logs WHERE ${where.join(' AND ')} ORDER BY ts_ms DESC LIMIT $${params.length}`,
          params,
        ),
      );
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        limits: { max_window_hours: maxHours, max_results: maxResults },
        truncated: rows.rows.length > limit,
        logs: rows.rows.slice(0, limit).map((r) => ({
          time: new Date(Number(r.ts_ms)).toISOString(),
          severity_number: Number(r.severity),
          severity_text: r.severity_text,
          service: r.service,
          trace_id: r.trace_id,
          span_id: r.span_id,
          body: r.body,
          attributes: (typeof r.attributes === 'string' ? JSON.parse(r.attributes) : r.attributes) as Record<string, unknown>,
        })),
      };
    },
  );

  app.get(
    '/obs/metrics',
    {
      schema: {
        operationId: 'getServiceMetrics',
        summary: `Request rate, error ratio and p95 latency per service and route from ingress spans (window at most ${maxHours} h, default 1 h)`,
        tags: ['obs'],
        querystring: WindowQuery,
        response: { 200: described('One series per service and route over the window', MetricsResponse) },
        'x-error-codes': ['obs.window_invalid', 'obs.window_too_wide'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const window = queryWindow(request.query.from, request.query.to, clock(), HOUR_MS, maxHours);
      await deps.flushIndex();
      const params: unknown[] = [tenant, window.fromMs, window.toMs, maxResults];
      const serviceFilter = request.query.service ? (params.push(request.query.service), `AND service = $${params.length}`) : '';
      const rows = await store.tenantTransaction(tenant, (tx) =>
        tx.query<{ service: string; route: string; requests: string; errors: string; p95: number }>(
          `SELECT service, COALESCE(route, name) AS route, count(*) AS requests, count(*) FILTER (WHERE status_code = 2) AS errors,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
             FROM telemetry_spans
            WHERE tenant_id = $1 AND start_ms >= $2 AND start_ms < $3 AND kind IN ${INGRESS_KINDS} ${serviceFilter}
            GROUP BY service, COALESCE(route, name)
            ORDER BY service, route
            LIMIT $4`,
          params,
        ),
      );
      const seconds = (window.toMs - window.fromMs) / 1000;
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        series: rows.rows.map((r) => {
          const requests = Number(r.requests);
          const errorCount = Number(r.errors);
          return {
            service: r.service,
            route: r.route,
            requests,
            request_rate_per_s: requests / seconds,
            errors: errorCount,
            error_ratio: requests > 0 ? errorCount / requests : 0,
            p95_ms: Number(r.p95 ?? 0),
          };
        }),
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
      const window = queryWindow(request.query.from, request.query.to, now, 15 * 60_000, maxHours);
      const lookbackFrom = Math.max(window.toMs - maxHours * HOUR_MS, 0);
      await deps.flushIndex();
      const params: unknown[] = [tenant, lookbackFrom, window.toMs, window.fromMs, maxResults];
      const serviceFilter = request.query.service ? (params.push(request.query.service), `AND service = $${params.length}`) : '';
      const rows = await store.tenantTransaction(tenant, (tx) =>
        tx.query<{ service: string; last_seen: string; requests: string; errors: string; p95: number | null }>(
          `SELECT service, max(start_ms) AS last_seen,
                  count(*) FILTER (WHERE start_ms >= $4 AND kind IN ${INGRESS_KINDS}) AS requests,
                  count(*) FILTER (WHERE start_ms >= $4 AND kind IN ${INGRESS_KINDS} AND status_code = 2) AS errors,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE start_ms >= $4 AND kind IN ${INGRESS_KINDS}) AS p95
             FROM telemetry_spans
            WHERE tenant_id = $1 AND start_ms >= $2 AND start_ms < $3 ${serviceFilter}
            GROUP BY service ORDER BY service LIMIT $5`,
          params,
        ),
      );
      return {
        window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
        thresholds: { error_ratio_degraded: DEGRADED_ERROR_RATIO, p95_ms_degraded: DEGRADED_P95_MS },
        services: rows.rows.map((r) => {
          const lastSeen = Number(r.last_seen);
          const requests = Number(r.requests);
          const errorRatio = requests > 0 ? Number(r.errors) / requests : 0;
          const p95 = Number(r.p95 ?? 0);
          const status: 'up' | 'degraded' | 'down' = lastSeen < window.fromMs ? 'down' : errorRatio > DEGRADED_ERROR_RATIO || p95 > DEGRADED_P95_MS ? 'degraded' : 'up';
          return { service: r.service, status, last_seen: new Date(lastSeen).toISOString(), requests, error_ratio: errorRatio, p95_ms: p95 };
        }),
      };
    },
  );
}
