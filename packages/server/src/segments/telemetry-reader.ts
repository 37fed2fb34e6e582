/**
 * Reads of the telemetry store, for the read APIs (obs/) and anyone else: the stored records of
 * a trace, trace search candidates, log search, and aggregates of ingress spans. Every read first flushes the index, so
 * what was acknowledged is what is read; every query runs as the tenant (row-level security).
 * The one platform-wide read (`tenantVolumes`, for operators) keeps that rule: it visits the
 * tenants one by one, each in its own tenant transaction.
 * The telemetry store owns its tables: this file and the index are the only SQL on `telemetry_*`.
 */
import type { SqlStore } from '../store/sql-store.js';
import { listTenants } from '../store/tenants.js';
import { parseSegmentId } from './segment-path.js';
import { decodeRequest, type TraceRequest } from './signal-records.js';
import type { TelemetryStore } from './telemetry-store.js';

/** Ingress spans: SERVER (HTTP/gRPC) and CONSUMER (jobs, messages). */
const INGRESS_KINDS = '(2, 5)';

export interface LogSearch {
  fromMs: number;
  toMs: number;
  traceId?: string | undefined;
  /** Lowest severity number. */
  minSeverity?: number | undefined;
  service?: string | undefined;
  /** Case-insensitive substring of the body. */
  text?: string | undefined;
  limit: number;
}

export interface LogRow {
  ts_ms: number;
  severity: number;
  severity_text: string | null;
  service: string;
  trace_id: string | null;
  span_id: string | null;
  body: string;
  attributes: Record<string, unknown>;
}

/** What the index can filter traces by (spans it keeps: root, request and job spans, and each service's first). */
export interface TraceCandidateSearch {
  fromMs: number;
  toMs: number;
  /** A span of the trace is of this service. */
  service?: string | undefined;
  /** A span of the trace has this `http.route`, or this name when it has no route (as `routeStats` groups them). */
  route?: string | undefined;
  /** `error`: a root, request or job span of the trace ended with status ERROR; `ok`: none did. */
  status?: 'ok' | 'error' | undefined;
  /** First span start to last span end, over the spans the index keeps, at least this. */
  minDurationMs?: number | undefined;
  limit: number;
}

export interface TraceCandidate {
  trace_id: string;
  /** Earliest start of the trace's indexed spans in the window. */
  start_ms: number;
}

/** Where a stored record is: its segment and byte offset. */
export interface RecordRef {
  segment: string;
  offset: number;
}

export interface RouteStats {
  service: string;
  route: string;
  requests: number;
  errors: number;
  p95_ms: number;
}

export interface ServiceStats {
  service: string;
  /** Latest span start seen in the look-back. */
  last_seen_ms: number;
  requests: number;
  errors: number;
  p95_ms: number;
}

/** How much telemetry one tenant's index holds in a window (`tenantVolumes`). */
export interface TenantVolume {
  tenant: string;
  /** Indexed spans starting in the window (root, request and job spans, and each service's first of a trace: what the index keeps). */
  spans: number;
  logs: number;
  metric_points: number;
  /** Of `spans`, those that ended with status ERROR. */
  error_spans: number;
  /** spans + logs + metric_points. */
  total: number;
}

export class TelemetryReader {
  constructor(
    private readonly store: SqlStore,
    private readonly telemetry: TelemetryStore,
  ) {}

  /** The stored export requests holding spans of `traceId`, in segment order, at most `max` (then `truncated`). */
  async traceRecords(tenant: string, traceId: string, max: number): Promise<{ requests: TraceRequest[]; truncated: boolean }> {
    await this.telemetry.index.flush();
    const refs = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ segment: string; record_offset: string }>(
        'SELECT DISTINCT segment, record_offset FROM telemetry_trace_records WHERE tenant_id = $1 AND trace_id = $2 ORDER BY segment, record_offset LIMIT $3',
        [tenant, traceId, max + 1],
      ),
    );
    const requests: TraceRequest[] = [];
    for (const ref of refs.rows.slice(0, max)) {
      const seg = parseSegmentId(ref.segment);
      if (!seg) continue;
      const record = await this.telemetry.segments.readRecord(tenant, seg, Number(ref.record_offset));
      requests.push(decodeRequest('traces', record.payload));
    }
    return { requests, truncated: refs.rows.length > max };
  }

  /**
   * Traces with an indexed span starting in `[fromMs, toMs)` that match the filters, newest
   * first (by their earliest such span), at most `limit`. Every filter holds for the trace, each
   * on any of its indexed spans — `service=a&route=/x` finds traces through service a that
   * served /x somewhere.
   */
  async traceCandidates(tenant: string, search: TraceCandidateSearch): Promise<TraceCandidate[]> {
    await this.telemetry.index.flush();
    const params: unknown[] = [tenant, search.fromMs, search.toMs];
    const having: string[] = [];
    const add = (clause: string, value: unknown): void => {
      params.push(value);
      having.push(clause.replace('?', `$${params.length}`));
    };
    if (search.service !== undefined) add('bool_or(service = ?)', search.service);
    if (search.route !== undefined) add('bool_or(COALESCE(route, name) = ?)', search.route);
    if (search.status !== undefined) add(`bool_or(status_code = 2 AND (parent_span_id IS NULL OR kind IN ${INGRESS_KINDS})) = ?`, search.status === 'error');
    if (search.minDurationMs !== undefined) add('max(start_ms + duration_ms) - min(start_ms) >= ?', search.minDurationMs);
    params.push(search.limit);
    const rows = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ trace_id: string; start_ms: string }>(
        `SELECT trace_id, min(start_ms) AS start_ms
           FROM telemetry_spans
          WHERE tenant_id = $1 AND start_ms >= $2 AND start_ms < $3
          GROUP BY trace_id
          ${having.length > 0 ? `HAVING ${having.join(' AND ')}` : ''}
          ORDER BY min(start_ms) DESC, trace_id DESC
          LIMIT $${params.length}`,
        params,
      ),
    );
    return rows.rows.map((r) => ({ trace_id: r.trace_id, start_ms: Number(r.start_ms) }));
  }

  /** The stored records holding spans of each of `traceIds`, in segment order, at most `maxPerTrace` each. */
  async traceRecordRefs(tenant: string, traceIds: readonly string[], maxPerTrace: number): Promise<Map<string, RecordRef[]>> {
    const refs = new Map<string, RecordRef[]>();
    if (traceIds.length === 0) return refs;
    const rows = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ trace_id: string; segment: string; record_offset: string }>(
        'SELECT DISTINCT trace_id, segment, record_offset FROM telemetry_trace_records WHERE tenant_id = $1 AND trace_id = ANY($2::text[]) ORDER BY trace_id, segment, record_offset',
        [tenant, [...traceIds]],
      ),
    );
    for (const r of rows.rows) {
      const list = refs.get(r.trace_id) ?? [];
      if (list.length < maxPerTrace) list.push({ segment: r.segment, offset: Number(r.record_offset) });
      refs.set(r.trace_id, list);
    }
    return refs;
  }

  /** One stored trace record, decoded; undefined when the reference names no trace segment. */
  async readTraceRecord(tenant: string, ref: RecordRef): Promise<TraceRequest | undefined> {
    const seg = parseSegmentId(ref.segment);
    if (!seg || seg.signal !== 'traces') return undefined;
    const record = await this.telemetry.segments.readRecord(tenant, seg, ref.offset);
    return decodeRequest('traces', record.payload);
  }

  /** Log records in the window matching the filter, newest first, at most `limit + 1` (so callers can tell truncation). */
  async searchLogs(tenant: string, search: LogSearch): Promise<LogRow[]> {
    await this.telemetry.index.flush();
    const where = ['tenant_id = $1', 'ts_ms >= $2', 'ts_ms < $3'];
    const params: unknown[] = [tenant, search.fromMs, search.toMs];
    const add = (clause: string, value: unknown): void => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (search.traceId) add('trace_id = ?', search.traceId.toLowerCase());
    if (search.minSeverity !== undefined) add('severity >= ?', search.minSeverity);
    if (search.service) add('service = ?', search.service);
    if (search.text) add("body ILIKE ? ESCAPE '\\'", `%${search.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    params.push(search.limit + 1);
    const rows = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ ts_ms: string; severity: number; severity_text: string | null; service: string; trace_id: string | null; span_id: string | null; body: string; attributes: unknown }>(
        `SELECT ts_ms, severity, severity_text, service, trace_id, span_id, body, attributes FROM telemetry_logs WHERE ${where.join(' AND ')} ORDER BY ts_ms DESC LIMIT $${params.length}`,
        params,
      ),
    );
    return rows.rows.map((r) => ({
      ts_ms: Number(r.ts_ms),
      severity: Number(r.severity),
      severity_text: r.severity_text,
      service: r.service,
      trace_id: r.trace_id,
      span_id: r.span_id,
      body: r.body,
      attributes: (typeof r.attributes === 'string' ? JSON.parse(r.attributes) : r.attributes) as Record<string, unknown>,
    }));
  }

  /**
   * Platform-wide, for operators: what each tenant's index holds with a time in `[fromMs, toMs)`
   * — spans (and of them errors), log records and metric points — for every tenant with any,
   * most first (then by tenant id). Row-level security stays the wall: the tenants are listed
   * from the store's tenant list (ids only, readable by design) and each is counted in a
   * transaction of its own tenant, so no statement sees two tenants' rows or runs without one.
   * One transaction per tenant; metric points have no time index of their own, so their count
   * reads each tenant's points (kept for the hot tier's days).
   */
  async tenantVolumes(window: { fromMs: number; toMs: number }): Promise<TenantVolume[]> {
    await this.telemetry.index.flush();
    const tenants = await this.store.tenantTransaction(null, listTenants);
    const volumes: TenantVolume[] = [];
    for (const tenant of tenants) {
      const counts = await this.store.tenantTransaction(tenant, async (tx) =>
        (
          await tx.query<{ spans: string; error_spans: string; logs: string; metric_points: string }>(
            `SELECT s.spans, s.error_spans, l.logs, m.metric_points
               FROM (SELECT count(*) AS spans, count(*) FILTER (WHERE status_code = 2) AS error_spans
                       FROM telemetry_spans WHERE tenant_id = $1 AND start_ms >= $2 AND start_ms < $3) AS s,
                    (SELECT count(*) AS logs FROM telemetry_logs WHERE tenant_id = $1 AND ts_ms >= $2 AND ts_ms < $3) AS l,
                    (SELECT count(*) AS metric_points FROM telemetry_metric_points WHERE tenant_id = $1 AND ts_ms >= $2 AND ts_ms < $3) AS m`,
            [tenant, window.fromMs, window.toMs],
          )
        ).rows[0],
      );
      if (!counts) continue;
      const spans = Number(counts.spans);
      const logs = Number(counts.logs);
      const metricPoints = Number(counts.metric_points);
      const total = spans + logs + metricPoints;
      if (total > 0) volumes.push({ tenant, spans, logs, metric_points: metricPoints, error_spans: Number(counts.error_spans), total });
    }
    return volumes.sort((a, b) => b.total - a.total || (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
  }

  /** Requests, errors and p95 of ingress spans per service and route in `[fromMs, toMs)`. */
  async routeStats(tenant: string, window: { fromMs: number; toMs: number; service?: string | undefined; limit: number }): Promise<RouteStats[]> {
    await this.telemetry.index.flush();
    const params: unknown[] = [tenant, window.fromMs, window.toMs, window.limit];
    const serviceFilter = window.service ? (params.push(window.service), `AND service = $${params.length}`) : '';
    const rows = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ service: string; route: string; requests: string; errors: string; p95: number | null }>(
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
    return rows.rows.map((r) => ({ service: r.service, route: r.route, requests: Number(r.requests), errors: Number(r.errors), p95_ms: Number(r.p95 ?? 0) }));
  }

  /**
   * Per service seen since `lookbackFromMs`: when it was last seen, and requests, errors and p95
   * of its ingress spans in `[fromMs, toMs)`.
   */
  async serviceStats(tenant: string, window: { lookbackFromMs: number; fromMs: number; toMs: number; service?: string | undefined; limit: number }): Promise<ServiceStats[]> {
    await this.telemetry.index.flush();
    const params: unknown[] = [tenant, window.lookbackFromMs, window.toMs, window.fromMs, window.limit];
    const serviceFilter = window.service ? (params.push(window.service), `AND service = $${params.length}`) : '';
    const rows = await this.store.tenantTransaction(tenant, (tx) =>
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
    return rows.rows.map((r) => ({ service: r.service, last_seen_ms: Number(r.last_seen), requests: Number(r.requests), errors: Number(r.errors), p95_ms: Number(r.p95 ?? 0) }));
  }
}
