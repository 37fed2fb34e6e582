/**
 * `GET /obs/traces` (OBS-2): trace search. The index keeps the spans rates and health are computed
 * from (root, request and job spans, and each service's first span of a trace), so it finds the
 * candidate traces — by window, service, route, status and duration, newest first. Each
 * candidate is then summarised from its stored records, as received: every span counts, the root
 * is the span without a parent (or the earliest whose parent never arrived), and the attribute
 * filter, which the index cannot answer, looks at every span and resource.
 *
 * Reading records is the cost, so it has a budget per search: an attribute (or duration) search
 * that spends it before every candidate was checked says so (`scan.complete: false`) instead of
 * running on. The duration is checked on the records too: the index has times to about a
 * millisecond, the records to the microsecond.
 */
import { ServiceError } from '../errors.js';
import { stringAttr } from '../segments/index-rows.js';
import { int64ToString, type AnyValue, type Int64, type KeyValue, type TraceRequest } from '../segments/signal-records.js';
import type { RecordRef, TelemetryReader } from '../segments/telemetry-reader.js';

/** Stored records one search may read and decode. */
export const MAX_SEARCH_RECORDS = 1000;
/** Records read for one trace at most (the rest of a trace spread wider is not counted). */
const MAX_RECORDS_PER_TRACE = 200;
/** Candidates an attribute search checks at most. */
const MAX_ATTRIBUTE_CANDIDATES = 2000;
/** Candidates whose record references are fetched in one query. */
const REF_BATCH = 50;
/** Status codes and kinds as the index and `/obs/routes` count errors: ERROR on a SERVER or CONSUMER span, or a root. */
const STATUS_ERROR = 2;
const REQUEST_KINDS = new Set([2, 5]);

/** The reads a search makes (the telemetry reader's). */
export type TraceSearchReader = Pick<TelemetryReader, 'traceCandidates' | 'traceRecordRefs' | 'readTraceRecord'>;

export interface AttributeFilter {
  key: string;
  value: string;
}

export interface TraceSearchQuery {
  fromMs: number;
  toMs: number;
  service?: string | undefined;
  route?: string | undefined;
  status?: 'ok' | 'error' | undefined;
  minDurationMs?: number | undefined;
  attribute?: AttributeFilter | undefined;
  limit: number;
}

export interface TraceSummary {
  trace_id: string;
  tenant: string;
  root_span_name: string;
  root_span_received: boolean;
  service: string;
  route: string | null;
  services: string[];
  start_time: string;
  duration_ms: number;
  span_count: number;
  error: boolean;
  error_span_count: number;
  trace: string;
}

export interface TraceSearchResult {
  traces: TraceSummary[];
  truncated: boolean;
  scan: { complete: boolean; candidates: number; examined: number; records_read: number };
}

/** `key=value` (the first `=` splits; the value may be empty or hold `=`). */
export function parseAttributeFilter(text: string | undefined): AttributeFilter | undefined {
  if (text === undefined) return undefined;
  const at = text.indexOf('=');
  const key = at > 0 ? text.slice(0, at).trim() : '';
  if (key === '') {
    throw new ServiceError('obs.attribute_invalid', 'attribute must be key=value with a non-empty key, e.g. attribute=http.request.method=POST', { field: 'query.attribute' });
  }
  return { key, value: text.slice(at + 1) };
}

/** Whether an attribute value, as text, is `want`: strings as they are, numbers and booleans as written, arrays when an element is. */
function valueIs(value: AnyValue | null | undefined, want: string, depth = 0): boolean {
  if (!value || depth > 4) return false;
  if (typeof value.stringValue === 'string') return value.stringValue === want;
  if (typeof value.boolValue === 'boolean') return String(value.boolValue) === want;
  if (value.intValue !== null && value.intValue !== undefined) return int64ToString(value.intValue) === want;
  if (typeof value.doubleValue === 'number') return String(value.doubleValue) === want;
  if (value.arrayValue) return value.arrayValue.values.some((v) => valueIs(v, want, depth + 1));
  return false;
}

function hasAttribute(list: KeyValue[] | null | undefined, filter: AttributeFilter): boolean {
  if (!list) return false;
  for (const kv of list) if (kv.key === filter.key && valueIs(kv.value, filter.value)) return true;
  return false;
}

/** A nanosecond timestamp in microseconds, exactly (a double holds nanoseconds since 1970 only to about 256 ns). */
function micros(value: Int64 | null | undefined): number {
  if (typeof value === 'number') return Math.floor(value / 1000);
  return Number(BigInt(int64ToString(value)) / 1000n);
}

interface SpanFacts {
  parent: string | null;
  name: string;
  service: string;
  kind: number;
  /** Microseconds since the epoch: exact in a double, where nanoseconds are not. */
  startUs: number;
  endUs: number;
  error: boolean;
  route: string | null;
}

/** The summary of one trace from its records; `matched` says whether the attribute filter holds (true without one). */
export function summariseTrace(tenant: string, traceId: string, requests: readonly TraceRequest[], attribute?: AttributeFilter): (TraceSummary & { matched: boolean }) | undefined {
  const want = Buffer.from(traceId, 'hex');
  const spans = new Map<string, SpanFacts>();
  let matched = attribute === undefined;
  for (const request of requests) {
    for (const rs of request.resourceSpans) {
      const resourceAttributes = rs.resource?.attributes;
      const service = stringAttr(resourceAttributes, 'service.name') ?? 'unknown_service';
      let resourceMatched: boolean | undefined;
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          if (!want.equals(Buffer.from(s.traceId))) continue;
          if (!matched) {
            resourceMatched ??= hasAttribute(resourceAttributes, attribute!);
            matched = resourceMatched || hasAttribute(s.attributes, attribute!);
          }
          const spanId = Buffer.from(s.spanId).toString('hex');
          // The same span twice (a replayed bundle, an exporter retry) counts once.
          if (spans.has(spanId)) continue;
          spans.set(spanId, {
            parent: s.parentSpanId && s.parentSpanId.length > 0 ? Buffer.from(s.parentSpanId).toString('hex') : null,
            name: s.name ?? '',
            service,
            kind: s.kind ?? 0,
            startUs: micros(s.startTimeUnixNano),
            endUs: micros(s.endTimeUnixNano),
            error: (s.status?.code ?? 0) === STATUS_ERROR,
            route: stringAttr(s.attributes, 'http.route') ?? null,
          });
        }
      }
    }
  }
  if (spans.size === 0) return undefined;
  // The root: the earliest span without a parent; else the earliest whose parent was not received.
  let root: SpanFacts | undefined;
  let orphan: SpanFacts | undefined;
  let start = Infinity;
  let end = -Infinity;
  let errorSpans = 0;
  let requestError = false;
  const services = new Set<string>();
  const earlier = (a: SpanFacts | undefined, b: SpanFacts): boolean => a === undefined || b.startUs < a.startUs;
  for (const span of spans.values()) {
    if (span.parent === null) {
      if (earlier(root, span)) root = span;
    } else if (!spans.has(span.parent) && earlier(orphan, span)) orphan = span;
    start = Math.min(start, span.startUs);
    end = Math.max(end, span.endUs);
    services.add(span.service);
    if (span.error) {
      errorSpans++;
      if (span.parent === null || REQUEST_KINDS.has(span.kind)) requestError = true;
    }
  }
  // Spans whose parents form a loop (malformed input) still have a first span.
  const first = root ?? orphan ?? [...spans.values()].reduce((a, b) => (b.startUs < a.startUs ? b : a));
  return {
    trace_id: traceId,
    tenant,
    root_span_name: first.name,
    root_span_received: root !== undefined,
    service: first.service,
    route: first.route,
    services: [...services].sort(),
    start_time: new Date(Math.floor(start / 1000)).toISOString(),
    duration_ms: Math.max(0, (end - start) / 1000),
    span_count: spans.size,
    error: requestError,
    error_span_count: errorSpans,
    trace: `/obs/trace/${traceId}`,
    matched,
  };
}

const refKey = (ref: RecordRef): string => `${ref.segment}@${ref.offset}`;

/** Finds the traces, newest first, and summarises each from its records within the read budget. */
export async function searchTraces(reader: TraceSearchReader, tenant: string, query: TraceSearchQuery): Promise<TraceSearchResult> {
  const { attribute, limit, minDurationMs } = query;
  // The records decide the attribute, and the duration exactly: the index keeps times to about a
  // millisecond (start times cut to whole ms), so it is asked for a millisecond less.
  const checked = attribute !== undefined || minDurationMs !== undefined;
  const candidateLimit = checked ? Math.max(MAX_ATTRIBUTE_CANDIDATES, limit + 1) : limit + 1;
  const candidates = await reader.traceCandidates(tenant, {
    fromMs: query.fromMs,
    toMs: query.toMs,
    service: query.service,
    route: query.route,
    status: query.status,
    minDurationMs: minDurationMs !== undefined ? minDurationMs - 1 : undefined,
    limit: candidateLimit,
  });
  // Without a check on the records every candidate is a result: read the first `limit`. With
  // one, read until one more than `limit` matched (so truncation is known) or the candidates end.
  const toExamine = checked ? candidates : candidates.slice(0, limit);
  const wanted = checked ? limit + 1 : limit;
  const records = new Map<string, TraceRequest | undefined>();
  const found: TraceSummary[] = [];
  let examined = 0;
  let budgetSpent = false;
  scan: for (let i = 0; i < toExamine.length && found.length < wanted; i += REF_BATCH) {
    const batch = toExamine.slice(i, i + REF_BATCH);
    const refs = await reader.traceRecordRefs(tenant, batch.map((c) => c.trace_id), MAX_RECORDS_PER_TRACE);
    for (const candidate of batch) {
      if (found.length >= wanted) break scan;
      const own = refs.get(candidate.trace_id) ?? [];
      const unread = own.filter((r) => !records.has(refKey(r)));
      // The budget is checked before a trace, never in the middle of one: a trace is summarised whole.
      if (examined > 0 && records.size + unread.length > MAX_SEARCH_RECORDS) {
        budgetSpent = true;
        break scan;
      }
      for (const ref of unread) records.set(refKey(ref), await reader.readTraceRecord(tenant, ref));
      examined++;
      const requests = own.map((r) => records.get(refKey(r))).filter((r): r is TraceRequest => r !== undefined);
      const summary = summariseTrace(tenant, candidate.trace_id, requests, attribute);
      if (!summary || !summary.matched || (minDurationMs !== undefined && summary.duration_ms < minDurationMs)) continue;
      const { matched: _matched, ...trace } = summary;
      found.push(trace);
    }
  }
  // The candidate query stops at its limit: a checked search that read all it was given may not have seen every trace.
  const candidatesCut = checked && candidates.length === candidateLimit;
  const complete = !budgetSpent && !(candidatesCut && found.length < wanted);
  const truncated = found.length > limit || (!checked && (candidates.length > limit || budgetSpent));
  const traces = found.slice(0, limit).sort((a, b) => (a.start_time < b.start_time ? 1 : a.start_time > b.start_time ? -1 : a.trace_id < b.trace_id ? 1 : -1));
  return { traces, truncated, scan: { complete, candidates: candidates.length, examined, records_read: records.size } };
}
