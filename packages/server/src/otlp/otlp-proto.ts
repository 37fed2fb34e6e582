/**
 * The OTLP protobuf messages, decoded and encoded with protobufjs over the official
 * opentelemetry-proto definitions as compiled and shipped by `@opentelemetry/otlp-transformer`
 * (its generated static module) — not hand-copied. The TypeScript shapes below describe the
 * decoded objects the rest of the service touches; fields it never reads are left out.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package has no `exports` map; the generated module is a stable part of its published files.
type ResponseType = MessageType<{ partialSuccess?: PartialSuccess | null }>;
interface GeneratedCollector {
  trace: { v1: { ExportTraceServiceRequest: MessageType<TraceRequest>; ExportTraceServiceResponse: ResponseType } };
  metrics: { v1: { ExportMetricsServiceRequest: MessageType<MetricsRequest>; ExportMetricsServiceResponse: ResponseType } };
  logs: { v1: { ExportLogsServiceRequest: MessageType<LogsRequest>; ExportLogsServiceResponse: ResponseType } };
}
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as { opentelemetry: { proto: { collector: GeneratedCollector } } };

export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** What protobufjs gives for 64-bit fields: a Long (from the `long` package) or, for small values, a number. */
export interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
  toString(): string;
}
export type Int64 = LongLike | number | string;

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: number | null;
  arrayValue?: { values: AnyValue[] } | null;
  kvlistValue?: { values: KeyValue[] } | null;
  bytesValue?: Uint8Array | null;
}
export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}
export interface Resource {
  attributes: KeyValue[];
}
export interface SpanEvent {
  timeUnixNano: Int64;
  name: string;
  attributes: KeyValue[];
}
export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  attributes: KeyValue[];
}
export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: Int64;
  endTimeUnixNano: Int64;
  attributes: KeyValue[];
  events: SpanEvent[];
  links: SpanLink[];
  status?: { code: number; message: string } | null;
}
export interface ScopeSpans {
  scope?: { name: string; version: string } | null;
  spans: Span[];
}
export interface ResourceSpans {
  resource?: Resource | null;
  scopeSpans: ScopeSpans[];
}
export interface TraceRequest {
  resourceSpans: ResourceSpans[];
}
export interface LogRecord {
  timeUnixNano: Int64;
  observedTimeUnixNano: Int64;
  severityNumber: number;
  severityText: string;
  body?: AnyValue | null;
  attributes: KeyValue[];
  traceId: Uint8Array;
  spanId: Uint8Array;
}
export interface ResourceLogs {
  resource?: Resource | null;
  scopeLogs: { scope?: { name: string } | null; logRecords: LogRecord[] }[];
}
export interface LogsRequest {
  resourceLogs: ResourceLogs[];
}
/** Metric data points are carried through untouched except for their attributes. */
export interface DataPointLike {
  attributes: KeyValue[];
}
export interface Metric {
  name: string;
  gauge?: { dataPoints: DataPointLike[] } | null;
  sum?: { dataPoints: DataPointLike[] } | null;
  histogram?: { dataPoints: DataPointLike[] } | null;
  exponentialHistogram?: { dataPoints: DataPointLike[] } | null;
  summary?: { dataPoints: DataPointLike[] } | null;
}
export interface ResourceMetrics {
  resource?: Resource | null;
  scopeMetrics: { scope?: { name: string } | null; metrics: Metric[] }[];
}
export interface MetricsRequest {
  resourceMetrics: ResourceMetrics[];
}

export type RequestOf<S extends Signal> = S extends 'traces' ? TraceRequest : S extends 'logs' ? LogsRequest : MetricsRequest;

interface MessageType<T> {
  decode(bytes: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): T;
  verify(message: Record<string, unknown>): string | null;
}

const collector = root.opentelemetry.proto.collector;

export const REQUEST_TYPES: { [S in Signal]: MessageType<RequestOf<S>> } = {
  traces: collector.trace.v1.ExportTraceServiceRequest,
  metrics: collector.metrics.v1.ExportMetricsServiceRequest,
  logs: collector.logs.v1.ExportLogsServiceRequest,
};

interface PartialSuccess {
  rejectedSpans?: number;
  rejectedLogRecords?: number;
  rejectedDataPoints?: number;
  errorMessage?: string;
}

const RESPONSE_TYPES: Record<Signal, MessageType<{ partialSuccess?: PartialSuccess | null }>> = {
  traces: collector.trace.v1.ExportTraceServiceResponse,
  metrics: collector.metrics.v1.ExportMetricsServiceResponse,
  logs: collector.logs.v1.ExportLogsServiceResponse,
};

const REJECTED_FIELD: Record<Signal, 'rejectedSpans' | 'rejectedLogRecords' | 'rejectedDataPoints'> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

/** The gRPC service path of each signal's Export method. */
export const GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

export function decodeRequest<S extends Signal>(signal: S, bytes: Uint8Array): RequestOf<S> {
  return REQUEST_TYPES[signal].decode(bytes) as RequestOf<S>;
}

export function encodeRequest<S extends Signal>(signal: S, message: RequestOf<S>): Uint8Array {
  return REQUEST_TYPES[signal].encode(message).finish();
}

/** Export*ServiceResponse: empty on full success, `partial_success` when some items were rejected. */
export function responseObject(signal: Signal, rejected: number, message: string | undefined): Record<string, unknown> {
  if (rejected === 0 && !message) return {};
  return { partialSuccess: { [REJECTED_FIELD[signal]]: rejected, errorMessage: message ?? '' } };
}

export function encodeResponse(signal: Signal, rejected: number, message: string | undefined): Uint8Array {
  const type = RESPONSE_TYPES[signal];
  return type.encode(type.fromObject(responseObject(signal, rejected, message))).finish();
}

/** Reads an Export*ServiceResponse: how many items the receiver rejected and why (clients, tests). */
export function decodeResponse(signal: Signal, bytes: Uint8Array): { rejected: number; message: string } {
  const partial = RESPONSE_TYPES[signal].decode(bytes).partialSuccess;
  const rejected = partial?.[REJECTED_FIELD[signal]] ?? 0;
  return { rejected: Number(rejected), message: partial?.errorMessage ?? '' };
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
/** What a malformed hex id becomes: one byte, a length no id has, so the item is rejected on its own. */
const MALFORMED_ID = new Uint8Array([0]);

type JsonObject = Record<string, unknown>;

function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter((v): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v)) : [];
}

/** Replaces the hex ids of one item (span, link, log record, exemplar) with bytes, in place. */
function hexIds(item: JsonObject, fields: readonly string[]): void {
  for (const field of fields) {
    const v = item[field];
    if (typeof v === 'string') item[field] = HEX_RE.test(v) ? Buffer.from(v, 'hex') : MALFORMED_ID;
  }
}

/**
 * OTLP/JSON writes trace and span ids as hex (not base64, as proto3 JSON would); turn them into
 * bytes where the OTLP schema has them — spans, links, log records, exemplars — and nowhere
 * else, so a deeply nested attribute is judged with its item, never refuses the request.
 */
function idsToBytes(signal: Signal, body: JsonObject): void {
  const ids = ['traceId', 'spanId', 'parentSpanId'];
  if (signal === 'traces') {
    for (const rs of objects(body['resourceSpans'])) {
      for (const ss of objects(rs['scopeSpans'])) {
        for (const span of objects(ss['spans'])) {
          hexIds(span, ids);
          for (const link of objects(span['links'])) hexIds(link, ids);
        }
      }
    }
  } else if (signal === 'logs') {
    for (const rl of objects(body['resourceLogs'])) for (const sl of objects(rl['scopeLogs'])) for (const record of objects(sl['logRecords'])) hexIds(record, ids);
  } else {
    for (const rm of objects(body['resourceMetrics'])) {
      for (const sm of objects(rm['scopeMetrics'])) {
        for (const metric of objects(sm['metrics'])) {
          for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
            const data = metric[kind];
            if (data === null || typeof data !== 'object') continue;
            for (const point of objects((data as JsonObject)['dataPoints'])) for (const exemplar of objects(point['exemplars'])) hexIds(exemplar, ids);
          }
        }
      }
    }
  }
}

export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

/** Decodes an OTLP/JSON body (already parsed) into the protobuf message. */
export function requestFromJson<S extends Signal>(signal: S, body: unknown): RequestOf<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new OtlpDecodeError('the JSON body must be an object');
  const type = REQUEST_TYPES[signal];
  try {
    idsToBytes(signal, body as JsonObject);
    return type.fromObject(body as JsonObject) as RequestOf<S>;
  } catch (cause) {
    throw new OtlpDecodeError(`the JSON body does not match ${signal} export request: ${(cause as Error).message}`);
  }
}

/** Converts a 64-bit protobuf integer to a JS number (ms precision is what callers need). */
export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

/** Exact decimal string of a 64-bit protobuf integer. */
export function int64ToString(value: Int64 | null | undefined): string {
  if (value === null || value === undefined) return '0';
  return typeof value === 'object' ? value.toString() : String(value);
}
