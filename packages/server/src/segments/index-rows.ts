/**
 * What the SQL index keeps of a stored record, derived from the decoded request. Only what the
 * read APIs query is indexed (the segments keep everything):
 * - one trace reference per distinct trace id in the record (`/obs/trace/:id` reads the records);
 * - one span row per ingress or root span (server/consumer spans and spans without a parent:
 *   request rate, errors, latency and health are computed from those), and, for a trace
 *   in which a service has neither in the record, that service's earliest span (so every
 *   service seen is known to health);
 * - one row per log record (`/obs/logs` searches them);
 * - one row per metric sample, with its series (metric-rows.ts: `/obs/metrics` and the SLO
 *   evaluator query them).
 * Index text is cut to lengths an index can hold; the record keeps the original.
 */
import { metricRows, type MetricRow } from './metric-rows.js';
import { int64ToNumber, nanosToMillis, type AnyValue, type KeyValue, type LogsRequest, type MetricsRequest, type TraceRequest } from './signal-records.js';

export type { MetricRow } from './metric-rows.js';

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service: string;
  name: string;
  kind: number;
  start_ms: number;
  duration_ms: number;
  status_code: number;
  route: string | null;
}

export interface LogRow {
  ts_ms: number;
  severity: number;
  severity_text: string | null;
  service: string;
  trace_id: string | null;
  span_id: string | null;
  body: string;
  /** JSON text of the record's attributes. */
  attributes: string;
}

/** The index rows of one stored record. */
export interface RecordRows {
  traceIds: string[];
  spans: SpanRow[];
  logs: LogRow[];
  /** Metric samples with their series (metric-rows.ts); absent for traces and logs. */
  metrics?: MetricRow[];
}

/** Span kinds the obs APIs count as requests (SERVER, CONSUMER). */
export const INGRESS_KINDS = [2, 5] as const;

const NS_PER_MS = 1_000_000;
const MAX_BODY_CHARS = 4096;
const MAX_NAME_CHARS = 512;
const MAX_SERVICE_CHARS = 256;

/** Cuts to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

function hex(bytes: Uint8Array | null | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '';
}

export function stringAttr(list: KeyValue[] | undefined | null, key: string): string | undefined {
  if (!list) return undefined;
  for (const kv of list) if (kv.key === key && typeof kv.value?.stringValue === 'string') return kv.value.stringValue;
  return undefined;
}

/** A plain JSON value for an AnyValue (log attributes and bodies, trace views). */
export function anyValueToJson(value: AnyValue | null | undefined, depth = 0): unknown {
  if (!value || depth > 16) return null;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== null && value.intValue !== undefined) return int64ToNumber(value.intValue);
  if (typeof value.doubleValue === 'number') return Number.isFinite(value.doubleValue) ? value.doubleValue : String(value.doubleValue);
  if (value.arrayValue) return value.arrayValue.values.map((v) => anyValueToJson(v, depth + 1));
  if (value.kvlistValue) return attributesToJson(value.kvlistValue.values, depth + 1);
  if (value.bytesValue) return Buffer.from(value.bytesValue).toString('base64');
  return null;
}

export function attributesToJson(list: KeyValue[] | undefined | null, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValueToJson(kv.value, depth);
  return out;
}

export function traceRows(request: TraceRequest): RecordRows {
  const traceIds = new Set<string>();
  const spans: SpanRow[] = [];
  for (const rs of request.resourceSpans) {
    const service = cut(stringAttr(rs.resource?.attributes, 'service.name') ?? 'unknown_service', MAX_SERVICE_CHARS);
    // Traces of this service in the record with no root or ingress span: their earliest span is
    // indexed instead, so every service seen in a trace has a row (last seen, health).
    const covered = new Set<string>();
    const earliest = new Map<string, SpanRow>();
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const traceId = hex(s.traceId);
        traceIds.add(traceId);
        const kind = s.kind ?? 0;
        const root = !s.parentSpanId || s.parentSpanId.length === 0;
        const ingress = root || kind === INGRESS_KINDS[0] || kind === INGRESS_KINDS[1];
        if (!ingress && covered.has(traceId)) continue;
        const start = int64ToNumber(s.startTimeUnixNano);
        const end = int64ToNumber(s.endTimeUnixNano);
        const route = stringAttr(s.attributes, 'http.route');
        const row: SpanRow = {
          trace_id: traceId,
          span_id: hex(s.spanId),
          parent_span_id: root ? null : hex(s.parentSpanId),
          service,
          name: cut(s.name ?? '', MAX_NAME_CHARS),
          kind,
          start_ms: nanosToMillis(s.startTimeUnixNano),
          duration_ms: Math.max(0, (end - start) / NS_PER_MS),
          status_code: s.status?.code ?? 0,
          route: route ? cut(route, MAX_NAME_CHARS) : null,
        };
        if (ingress) {
          spans.push(row);
          covered.add(traceId);
          earliest.delete(traceId);
        } else {
          const seen = earliest.get(traceId);
          if (!seen || row.start_ms < seen.start_ms) earliest.set(traceId, row);
        }
      }
    }
    for (const row of earliest.values()) spans.push(row);
  }
  return { traceIds: [...traceIds], spans, logs: [] };
}

export function logRows(request: LogsRequest, receivedAtMs: number): RecordRows {
  const logs: LogRow[] = [];
  for (const rl of request.resourceLogs) {
    const service = cut(stringAttr(rl.resource?.attributes, 'service.name') ?? 'unknown_service', MAX_SERVICE_CHARS);
    for (const sl of rl.scopeLogs) {
      for (const l of sl.logRecords) {
        const time = int64ToNumber(l.timeUnixNano) ? l.timeUnixNano : l.observedTimeUnixNano;
        const ts = int64ToNumber(time);
        const body = anyValueToJson(l.body);
        const text = typeof body === 'string' ? body : body === null ? '' : JSON.stringify(body);
        logs.push({
          ts_ms: ts > 0 ? nanosToMillis(time) : receivedAtMs,
          severity: l.severityNumber ?? 0,
          severity_text: l.severityText ? cut(l.severityText, 64) : null,
          service,
          trace_id: l.traceId && l.traceId.length > 0 ? hex(l.traceId) : null,
          span_id: l.spanId && l.spanId.length > 0 ? hex(l.spanId) : null,
          body: cut(text, MAX_BODY_CHARS),
          attributes: JSON.stringify(attributesToJson(l.attributes)),
        });
      }
    }
  }
  return { traceIds: [], spans: [], logs };
}

export function metricsRows(request: MetricsRequest, receivedAtMs: number): RecordRows {
  return { traceIds: [], spans: [], logs: [], metrics: metricRows(request, receivedAtMs) };
}
