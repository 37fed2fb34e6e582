/**
 * The OTLP protobuf messages, decoded and encoded by protobufjs from the official
 * opentelemetry-proto definitions (`packages/server/proto/`, v1.7.0, the upstream files and layout:
 * see the README there), loaded and compiled once per process (main thread and each prepare
 * worker). The TypeScript shapes below describe the decoded objects the rest of the service
 * touches; fields it never reads are left out.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { MAX_MESSAGE_DEPTH } from './request-census.js';

/** Beside src/ and dist/ alike: the package's proto/ folder. */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
const PROTO_FILES = ['trace', 'metrics', 'logs'].map((s) => `opentelemetry/proto/collector/${s}/v1/${s}_service.proto`);

function loadDefinitions(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports are written from the repository root of opentelemetry-proto (`opentelemetry/proto/...`).
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(PROTO_FILES, { keepCase: false });
  root.resolveAll();
  // A field absent from the bytes reads as null, not as its proto3 zero value (AnyValue's oneof
  // members included), as the decoded shapes below promise: "absent" stays distinguishable, and
  // callers test `!= null` / `??`. Encoding only looks at fields set on the message itself.
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const prototype = nested.ctor.prototype as Record<string, unknown>;
        for (const field of nested.fieldsArray) if (!field.repeated && !field.map) prototype[field.name] = null;
      }
      if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root);
  return root;
}

// protobufjs refuses messages nested deeper than protoc's default of 100 levels, when decoding,
// converting from JSON and encoding — the whole request at once. The request census bounds the
// nesting before anything is decoded (MAX_MESSAGE_DEPTH), and values nested deeper than the
// attribute limit are refused item by item after decoding; so the decoder follows the census.
const limits = protobuf as unknown as { util: { recursionLimit: number }; Reader: { recursionLimit: number } };
const RECURSION_LIMIT = MAX_MESSAGE_DEPTH + 16;
limits.util.recursionLimit = Math.max(limits.util.recursionLimit, RECURSION_LIMIT);
limits.Reader.recursionLimit = Math.max(limits.Reader.recursionLimit, RECURSION_LIMIT);

const root = loadDefinitions();

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
  decode(bytes: Uint8Array | protobuf.Reader): T;
  encode(message: T): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): T;
  verify(message: Record<string, unknown>): string | null;
}

function messageType<T>(name: string): MessageType<T> {
  return root.lookupType(`opentelemetry.proto.collector.${name}`) as unknown as MessageType<T>;
}

export const REQUEST_TYPES: { [S in Signal]: MessageType<RequestOf<S>> } = {
  traces: messageType('trace.v1.ExportTraceServiceRequest'),
  metrics: messageType('metrics.v1.ExportMetricsServiceRequest'),
  logs: messageType('logs.v1.ExportLogsServiceRequest'),
};

interface PartialSuccess {
  rejectedSpans?: number;
  rejectedLogRecords?: number;
  rejectedDataPoints?: number;
  errorMessage?: string;
}

const RESPONSE_TYPES: Record<Signal, MessageType<{ partialSuccess?: PartialSuccess | null }>> = {
  traces: messageType('trace.v1.ExportTraceServiceResponse'),
  metrics: messageType('metrics.v1.ExportMetricsServiceResponse'),
  logs: messageType('logs.v1.ExportLogsServiceResponse'),
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

interface BoundedReader extends protobuf.Reader {
  buf: Buffer;
}

/**
 * A reader over the bytes that refuses every field running past the end of its message. The
 * decoders bound each nested message by its length, and protobufjs's reader checks the length of
 * bytes fields and numbers; its reader over a Buffer would cut a string short silently instead:
 * here it refuses it like the rest, so a request that decodes is well-formed throughout.
 */
function boundedReader(bytes: Uint8Array): protobuf.Reader {
  const reader = protobuf.Reader.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as BoundedReader;
  reader.string = function string(this: BoundedReader): string {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) throw new RangeError(`index out of range: ${this.pos} + ${length} > ${this.len}`);
    const value = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return value;
  };
  return reader;
}

export function decodeRequest<S extends Signal>(signal: S, bytes: Uint8Array): RequestOf<S> {
  return REQUEST_TYPES[signal].decode(boundedReader(bytes)) as RequestOf<S>;
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
  const partial = RESPONSE_TYPES[signal].decode(boundedReader(bytes)).partialSuccess;
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
