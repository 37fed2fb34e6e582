/**
 * The signals and their records: the OTLP protobuf messages the telemetry store keeps byte for
 * byte (an Export*ServiceRequest per record), decoded and encoded by protobufjs from the official
 * opentelemetry-proto definitions (`packages/server/proto/`, v1.7.0, the upstream files and layout:
 * see the README there), loaded and compiled once per process (main thread and each prepare
 * worker). The TypeScript shapes below describe the decoded objects the rest of the service
 * touches; fields it never reads are left out.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

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

/** How deeply messages may nest in one record; the receiver's census refuses deeper requests before decoding. */
export const MAX_MESSAGE_DEPTH = 256;

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
/** What every metric data point has: the receiver judges its attributes, the index reads the rest. */
export interface DataPointLike {
  attributes: KeyValue[];
  startTimeUnixNano?: Int64 | null;
  timeUnixNano?: Int64 | null;
  /** Bit 0: no recorded value (a staleness marker). */
  flags?: number | null;
}
export interface NumberDataPoint extends DataPointLike {
  asDouble?: number | null;
  asInt?: Int64 | null;
}
export interface HistogramDataPoint extends DataPointLike {
  count?: Int64 | null;
  sum?: number | null;
  bucketCounts: Int64[];
  explicitBounds: number[];
}
export interface ExponentialBuckets {
  offset?: number | null;
  bucketCounts: Int64[];
}
export interface ExponentialHistogramDataPoint extends DataPointLike {
  count?: Int64 | null;
  sum?: number | null;
  scale?: number | null;
  zeroCount?: Int64 | null;
  zeroThreshold?: number | null;
  positive?: ExponentialBuckets | null;
  negative?: ExponentialBuckets | null;
}
/** OTLP AggregationTemporality: 1 = delta, 2 = cumulative. */
export const TEMPORALITY_DELTA = 1;
export interface Metric {
  name: string;
  unit?: string | null;
  gauge?: { dataPoints: NumberDataPoint[] } | null;
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality?: number | null; isMonotonic?: boolean | null } | null;
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality?: number | null } | null;
  exponentialHistogram?: { dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality?: number | null } | null;
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

export interface MessageType<T> {
  decode(bytes: Uint8Array | protobuf.Reader): T;
  encode(message: T): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): T;
  verify(message: Record<string, unknown>): string | null;
}

export function messageType<T>(name: string): MessageType<T> {
  return root.lookupType(`opentelemetry.proto.collector.${name}`) as unknown as MessageType<T>;
}

export const REQUEST_TYPES: { [S in Signal]: MessageType<RequestOf<S>> } = {
  traces: messageType('trace.v1.ExportTraceServiceRequest'),
  metrics: messageType('metrics.v1.ExportMetricsServiceRequest'),
  logs: messageType('logs.v1.ExportLogsServiceRequest'),
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
export function boundedReader(bytes: Uint8Array): protobuf.Reader {
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

/** Converts a 64-bit protobuf integer to a JS number (ms precision is what callers need). */
export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

const NS_PER_MS = 1_000_000n;

/**
 * Whole milliseconds (rounded down) of a 64-bit nanosecond count, computed exactly. A JS number
 * holds integers exactly only up to 2^53 (about 104 days in nanoseconds), so dividing the number
 * a Unix nano time converts to puts about one exact-millisecond time in eight 1 ms early
 * (1764600000002000000 ns becomes 1764600000001.9998 ms). The division is done on BigInt.
 */
export function nanosToMillis(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  let nanos: bigint;
  try {
    if (typeof value === 'number') {
      // A fraction (JSON of a hand-written request) or a non-finite value has no exact integer form.
      if (!Number.isInteger(value)) return Math.floor(value / 1e6);
      nanos = BigInt(value);
    } else if (typeof value === 'string') {
      nanos = BigInt(value.trim());
    } else {
      const high = value.unsigned ? value.high >>> 0 : value.high;
      nanos = (BigInt(high) << 32n) + BigInt(value.low >>> 0);
    }
  } catch {
    // Text that is no integer: what the number conversion makes of it (NaN and the like).
    return Math.floor(int64ToNumber(value) / 1e6);
  }
  let ms = nanos / NS_PER_MS;
  // BigInt division truncates toward zero; round down like Math.floor for times before 1970.
  if (nanos < 0n && ms * NS_PER_MS !== nanos) ms -= 1n;
  return Number(ms);
}

/** Exact decimal string of a 64-bit protobuf integer. */
export function int64ToString(value: Int64 | null | undefined): string {
  if (value === null || value === undefined) return '0';
  return typeof value === 'object' ? value.toString() : String(value);
}
