/**
 * `GET /obs/trace/:id`: the index says which stored records hold the trace's spans; the spans
 * themselves come from those records, as received (after scrubbing), so the answer carries
 * every attribute, event and link — then ordered as a tree (depth-first, children by start).
 */
import { attributesToJson } from '../segments/index-rows.js';
import { int64ToNumber, int64ToString, nanosToMillis } from '../segments/signal-records.js';
import type { TelemetryReader } from '../segments/telemetry-reader.js';

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

export interface TraceSpan {
  span_id: string;
  parent_span_id: string | null;
  depth: number;
  children: string[];
  name: string;
  kind: string;
  service: string;
  start_time: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ms: number;
  status: { code: string; message: string };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  events: { name: string; time_unix_nano: string; attributes: Record<string, unknown> }[];
  links: { trace_id: string; span_id: string; attributes: Record<string, unknown> }[];
}

export interface TraceView {
  trace_id: string;
  span_count: number;
  services: string[];
  root_span_ids: string[];
  start_time: string;
  duration_ms: number;
  spans: TraceSpan[];
}

/** Most distinct records read for one trace: a trace spread wider than this is cut and says so. */
const MAX_RECORDS = 2000;

export async function loadTrace(reader: TelemetryReader, tenant: string, traceId: string): Promise<(TraceView & { truncated: boolean }) | undefined> {
  const { requests, truncated } = await reader.traceRecords(tenant, traceId, MAX_RECORDS);
  if (requests.length === 0) return undefined;
  const byId = new Map<string, { span: TraceSpan; startNs: number; startBig: bigint; endBig: bigint }>();
  const want = Buffer.from(traceId, 'hex');
  for (const request of requests) {
    for (const rs of request.resourceSpans) {
      const resource = attributesToJson(rs.resource?.attributes);
      const service = typeof resource['service.name'] === 'string' ? (resource['service.name'] as string) : 'unknown_service';
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          if (!want.equals(Buffer.from(s.traceId))) continue;
          const spanId = Buffer.from(s.spanId).toString('hex');
          // The same span twice (a replayed bundle, an exporter retry) is shown once.
          if (byId.has(spanId)) continue;
          const startNs = int64ToNumber(s.startTimeUnixNano);
          const startBig = exactNanos(s.startTimeUnixNano);
          const endBig = exactNanos(s.endTimeUnixNano);
          byId.set(spanId, {
            startNs,
            startBig,
            endBig,
            span: {
              span_id: spanId,
              parent_span_id: s.parentSpanId && s.parentSpanId.length > 0 ? Buffer.from(s.parentSpanId).toString('hex') : null,
              depth: 0,
              children: [],
              name: s.name ?? '',
              kind: KINDS[s.kind ?? 0] ?? 'UNSPECIFIED',
              service,
              start_time: new Date(nanosToMillis(s.startTimeUnixNano)).toISOString(),
              start_time_unix_nano: int64ToString(s.startTimeUnixNano),
              end_time_unix_nano: int64ToString(s.endTimeUnixNano),
              duration_ms: Math.max(0, Number(endBig - startBig) / 1e6),
              status: { code: STATUS[s.status?.code ?? 0] ?? 'UNSET', message: s.status?.message ?? '' },
              attributes: attributesToJson(s.attributes),
              resource,
              scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
              events: s.events.map((e) => ({ name: e.name ?? '', time_unix_nano: int64ToString(e.timeUnixNano), attributes: attributesToJson(e.attributes) })),
              links: s.links.map((l) => ({ trace_id: Buffer.from(l.traceId).toString('hex'), span_id: Buffer.from(l.spanId).toString('hex'), attributes: attributesToJson(l.attributes) })),
            },
          });
        }
      }
    }
  }
  // Records indexed under this trace id that hold none of its spans: no trace to show.
  if (byId.size === 0) return undefined;
  const entries = [...byId.values()];
  const byStart = (a: { startNs: number; span: TraceSpan }, b: { startNs: number; span: TraceSpan }): number => a.startNs - b.startNs || (a.span.span_id < b.span.span_id ? -1 : 1);
  const children = new Map<string, typeof entries>();
  const roots: typeof entries = [];
  for (const e of entries) {
    const parent = e.span.parent_span_id;
    if (parent && byId.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(e);
      children.set(parent, list);
    } else roots.push(e);
  }
  roots.sort(byStart);
  const ordered: TraceSpan[] = [];
  const visited = new Set<string>();
  const visit = (e: (typeof entries)[number], depth: number): void => {
    if (visited.has(e.span.span_id)) return;
    visited.add(e.span.span_id);
    e.span.depth = depth;
    const kids = (children.get(e.span.span_id) ?? []).sort(byStart);
    e.span.children = kids.map((k) => k.span.span_id);
    ordered.push(e.span);
    for (const k of kids) visit(k, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  // Spans in a parent cycle (malformed input) have no root; they are listed, never lost.
  for (const e of entries.sort(byStart)) {
    if (!visited.has(e.span.span_id)) {
      roots.push(e);
      visit(e, 0);
    }
  }
  // A loop, not spread arguments: a trace may have more spans than a call takes arguments.
  let first: { span: TraceSpan; startBig: bigint } | undefined;
  let end: bigint | undefined;
  for (const e of entries) {
    if (!first || e.startBig < first.startBig) first = e;
    const spanEnd = e.endBig > e.startBig ? e.endBig : e.startBig;
    if (end === undefined || spanEnd > end) end = spanEnd;
  }
  return {
    trace_id: traceId,
    span_count: ordered.length,
    services: [...new Set(ordered.map((s) => s.service))].sort(),
    root_span_ids: roots.map((r) => r.span.span_id),
    // The earliest span's own start time, converted exactly from its nanoseconds.
    start_time: first!.span.start_time,
    duration_ms: Number(end! - first!.startBig) / 1e6,
    spans: ordered,
    truncated,
  };
}

/** Nanoseconds of a 64-bit protobuf integer as an exact BigInt (0 for what is no integer). */
function exactNanos(value: Parameters<typeof int64ToString>[0]): bigint {
  try {
    return BigInt(int64ToString(value));
  } catch {
    return 0n;
  }
}
