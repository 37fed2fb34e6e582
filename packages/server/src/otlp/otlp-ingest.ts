/**
 * One OTLP export request from decode to disk: decode (protobuf or JSON), check the tenant,
 * drop malformed items (reported as partial success), take the tenant's quota, scrub, append
 * the record to the tenant's segment, and queue its index rows. Either the whole record is
 * appended or nothing is: a refusal never leaves anything behind.
 */
import { metrics, type Counter } from '@opentelemetry/api';
import type { Logger } from '@stellaops/telemetry-core';
import type { SegmentStore } from '../segments/segment-store.js';
import type { LogRow, SpanRow, TelemetryIndex } from '../segments/telemetry-index.js';
import { OtlpError } from './otlp-error.js';
import {
  decodeRequest,
  encodeRequest,
  int64ToNumber,
  requestFromJson,
  type AnyValue,
  type KeyValue,
  type LogsRequest,
  type MetricsRequest,
  type RequestOf,
  type Signal,
  type TraceRequest,
} from './otlp-proto.js';
import type { OtlpScrubber } from './otlp-scrub.js';
import type { TenantQuota } from './tenant-quota.js';

export type OtlpFormat = 'protobuf' | 'json';

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** Why items were rejected (partial success), if any were. */
  message?: string;
}

export interface OtlpIngestorOptions {
  segments: SegmentStore;
  index: TelemetryIndex;
  scrubber: OtlpScrubber;
  quota: TenantQuota;
  logger: Logger;
  clock: () => number;
  /** Index rows waiting beyond which requests are refused with 503 + Retry-After. Default 500000. */
  maxIndexBacklog?: number;
}

/** Resource attributes that name a tenant; a value other than the token's tenant is refused. */
const TENANT_KEYS = new Set(['tenant.id', 'stella.tenant_id']);

function stringAttr(list: KeyValue[] | undefined, key: string): string | undefined {
  if (!list) return undefined;
  for (const kv of list) if (kv.key === key && typeof kv.value?.stringValue === 'string') return kv.value.stringValue;
  return undefined;
}

function hex(bytes: Uint8Array | null | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '';
}

/** A plain JSON value for an AnyValue (log attributes and bodies in the index). */
export function anyValueToJson(value: AnyValue | null | undefined, depth = 0): unknown {
  if (!value || depth > 16) return null;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== null && value.intValue !== undefined) return int64ToNumber(value.intValue);
  if (typeof value.doubleValue === 'number') return value.doubleValue;
  if (value.arrayValue) return value.arrayValue.values.map((v) => anyValueToJson(v, depth + 1));
  if (value.kvlistValue) return attributesToJson(value.kvlistValue.values, depth + 1);
  if (value.bytesValue) return Buffer.from(value.bytesValue).toString('base64');
  return null;
}

export function attributesToJson(list: KeyValue[] | undefined, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValueToJson(kv.value, depth);
  return out;
}

export class OtlpIngestor {
  private readonly maxBacklog: number;
  private readonly accepted: Counter;
  private readonly refused: Counter;

  constructor(private readonly options: OtlpIngestorOptions) {
    this.maxBacklog = options.maxIndexBacklog ?? 500_000;
    const meter = metrics.getMeter('stella-observability.otlp');
    this.accepted = meter.createCounter('telemetry_receiver_accepted', { description: 'Spans, log records and data points the OTLP receiver stored.' });
    this.refused = meter.createCounter('telemetry_receiver_refused', { description: 'OTLP requests refused, by error code.' });
  }

  /** Counts a refusal that happened before `ingest` (transport-level errors). */
  countRefusal(signal: Signal, code: string): void {
    this.refused.add(1, { signal, error_code: code });
  }

  /** Ingests one request body (already decompressed). Throws `OtlpError` for a refusal. */
  ingest(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat): IngestResult {
    try {
      return this.ingestOrThrow(tenant, signal, body, format);
    } catch (error) {
      if (error instanceof OtlpError) this.refused.add(1, { signal, error_code: error.code });
      throw error;
    }
  }

  private ingestOrThrow(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat): IngestResult {
    const { segments, index, scrubber, quota, clock } = this.options;
    if (index.backlog > this.maxBacklog) {
      throw new OtlpError('otlp.overloaded', 'the receiver is behind on indexing; retry after the delay', 1);
    }
    const request = this.decode(signal, body, format);
    const check = this.validate(tenant, signal, request);
    if (check.accepted === 0 && check.rejected === 0) return { accepted: 0, rejected: 0 };
    const verdict = quota.take(tenant, check.accepted, body.byteLength);
    if (!verdict.ok) {
      throw new OtlpError('otlp.quota_exceeded', `tenant "${tenant}" is over its ingest quota of ${verdict.limit === 'bytes' ? 'bytes' : 'records'} per second`, verdict.retryAfterSeconds);
    }
    const changed = scrubber.scrub(signal, request);
    // A clean protobuf request is stored exactly as received; anything altered is re-encoded.
    const payload = format === 'protobuf' && !changed && check.rejected === 0 ? body : encodeRequest(signal, request);
    const receivedAt = clock();
    if (check.accepted > 0) {
      const at = segments.append(tenant, signal, receivedAt, check.accepted, payload);
      if (signal === 'traces') index.addSpans(tenant, spanRows(request as TraceRequest, at.segment, at.offset));
      else if (signal === 'logs') index.addLogs(tenant, logRows(request as LogsRequest, at.segment, at.offset, receivedAt));
    }
    this.accepted.add(check.accepted, { signal });
    return check.rejected > 0 ? { accepted: check.accepted, rejected: check.rejected, message: check.message } : { accepted: check.accepted, rejected: 0 };
  }

  private decode<S extends Signal>(signal: S, body: Uint8Array, format: OtlpFormat): RequestOf<S> {
    if (format === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      } catch (cause) {
        throw new OtlpError('otlp.malformed_json', `the body is not JSON: ${(cause as Error).message}`, undefined, { cause });
      }
      try {
        return requestFromJson(signal, parsed);
      } catch (cause) {
        throw new OtlpError('otlp.malformed_json', (cause as Error).message, undefined, { cause });
      }
    }
    try {
      return decodeRequest(signal, body);
    } catch (cause) {
      throw new OtlpError('otlp.malformed_protobuf', `the body is not a valid ${signal} export request: ${(cause as Error).message}`, undefined, { cause });
    }
  }

  /**
   * Refuses the request when a resource names another tenant; removes items with malformed
   * ids (counted as rejected, OTLP partial success) so the stored record is well-formed.
   */
  private validate(tenant: string, signal: Signal, request: TraceRequest | LogsRequest | MetricsRequest): { accepted: number; rejected: number; message?: string } {
    const resources =
      signal === 'traces'
        ? (request as TraceRequest).resourceSpans
        : signal === 'logs'
          ? (request as LogsRequest).resourceLogs
          : (request as MetricsRequest).resourceMetrics;
    for (const r of resources) {
      for (const kv of r.resource?.attributes ?? []) {
        if (TENANT_KEYS.has(kv.key) && typeof kv.value?.stringValue === 'string' && kv.value.stringValue !== tenant) {
          throw new OtlpError('otlp.tenant_mismatch', `resource attribute ${kv.key}="${kv.value.stringValue.slice(0, 64)}" disagrees with the token's tenant "${tenant}"`);
        }
      }
    }
    let accepted = 0;
    let rejected = 0;
    if (signal === 'traces') {
      for (const rs of (request as TraceRequest).resourceSpans) {
        for (const ss of rs.scopeSpans) {
          const before = ss.spans.length;
          ss.spans = ss.spans.filter((s) => s.traceId?.length === 16 && s.spanId?.length === 8 && !isZero(s.traceId) && (!s.parentSpanId || s.parentSpanId.length === 0 || s.parentSpanId.length === 8));
          rejected += before - ss.spans.length;
          accepted += ss.spans.length;
        }
      }
      return rejected > 0 ? { accepted, rejected, message: `${rejected} span(s) had a trace id that is not 16 bytes (or all zero) or a span id that is not 8 bytes` } : { accepted, rejected };
    }
    if (signal === 'logs') {
      for (const rl of (request as LogsRequest).resourceLogs) {
        for (const sl of rl.scopeLogs) {
          const before = sl.logRecords.length;
          sl.logRecords = sl.logRecords.filter((l) => (!l.traceId || l.traceId.length === 0 || l.traceId.length === 16) && (!l.spanId || l.spanId.length === 0 || l.spanId.length === 8));
          rejected += before - sl.logRecords.length;
          accepted += sl.logRecords.length;
        }
      }
      return rejected > 0 ? { accepted, rejected, message: `${rejected} log record(s) had a malformed trace or span id` } : { accepted, rejected };
    }
    for (const rm of (request as MetricsRequest).resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          const data = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
          accepted += data?.dataPoints.length ?? 0;
        }
      }
    }
    return { accepted, rejected: 0 };
  }
}

function isZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

const NS_PER_MS = 1_000_000;

/** PostgreSQL text and jsonb cannot hold NUL; the segment keeps the original, the index drops it. */
function clean(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

function spanRows(request: TraceRequest, segment: string, offset: number): SpanRow[] {
  const rows: SpanRow[] = [];
  for (const rs of request.resourceSpans) {
    const service = clean(stringAttr(rs.resource?.attributes, 'service.name') ?? 'unknown_service');
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const start = int64ToNumber(s.startTimeUnixNano);
        const end = int64ToNumber(s.endTimeUnixNano);
        rows.push({
          trace_id: hex(s.traceId),
          span_id: hex(s.spanId),
          parent_span_id: s.parentSpanId && s.parentSpanId.length > 0 ? hex(s.parentSpanId) : null,
          service,
          name: clean(s.name),
          kind: s.kind ?? 0,
          start_ms: Math.floor(start / NS_PER_MS),
          duration_ms: Math.max(0, (end - start) / NS_PER_MS),
          status_code: s.status?.code ?? 0,
          route: clean(stringAttr(s.attributes, 'http.route') ?? '') || null,
          segment,
          record_offset: offset,
        });
      }
    }
  }
  return rows;
}

const MAX_BODY_CHARS = 4096;

function logRows(request: LogsRequest, segment: string, offset: number, receivedAt: number): LogRow[] {
  const rows: LogRow[] = [];
  for (const rl of request.resourceLogs) {
    const service = clean(stringAttr(rl.resource?.attributes, 'service.name') ?? 'unknown_service');
    for (const sl of rl.scopeLogs) {
      for (const l of sl.logRecords) {
        const ts = int64ToNumber(l.timeUnixNano) || int64ToNumber(l.observedTimeUnixNano);
        const body = anyValueToJson(l.body);
        const text = clean(typeof body === 'string' ? body : body === null ? '' : JSON.stringify(body));
        rows.push({
          ts_ms: ts > 0 ? Math.floor(ts / NS_PER_MS) : receivedAt,
          severity: l.severityNumber ?? 0,
          severity_text: clean(l.severityText ?? '') || null,
          service,
          trace_id: l.traceId && l.traceId.length > 0 ? hex(l.traceId) : null,
          span_id: l.spanId && l.spanId.length > 0 ? hex(l.spanId) : null,
          body: text.length > MAX_BODY_CHARS ? text.slice(0, MAX_BODY_CHARS) : text,
          attributes: JSON.stringify(attributesToJson(l.attributes)).replaceAll('\\u0000', ''),
          segment,
          record_offset: offset,
        });
      }
    }
  }
  return rows;
}
