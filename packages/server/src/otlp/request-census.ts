/**
 * Counts what an OTLP request would become once decoded — items (spans, log records, data
 * points) and the nested values around them — without decoding it, so a request that would
 * build millions of objects is refused before it costs memory or event-loop time.
 *
 * Protobuf: a walk over the wire format with protobufjs's `Reader` that reads exactly what the
 * generated decoders read (the same primitives, the same "a sub-message ends when its length is
 * used up" loop) and only descends into the fields that decode to objects; strings, bytes and
 * numbers are skipped. Known fields must carry their declared wire type: the generated decoders
 * do not check it, so a mismatch would let the decoder and this walk read the bytes differently;
 * such a request is malformed. JSON: a byte scan that counts objects and array elements, and the
 * elements of the `spans`, `logRecords` and `dataPoints` arrays as items.
 *
 * "Values" are everything else that becomes an object: attributes (a key with its value counts
 * once), elements of array values, events, links, exemplars, resource and scope blocks, metrics,
 * histogram buckets. Both counts stop at their limit (the walk ends there), so a refusal costs
 * time in proportion to the limit, not the body.
 */
import protobuf from 'protobufjs/minimal.js';
import { OtlpError } from './otlp-error.js';
import type { Signal } from '../segments/signal-records.js';
import { MAX_MESSAGE_DEPTH } from '../segments/signal-records.js';

export interface CensusLimits {
  /** Most items (spans, log records, data points) in one request. */
  maxItems: number;
  /** Most values (attributes and other nested objects, see above) in one request. */
  maxValues: number;
}

export interface Census {
  items: number;
  values: number;
}

/** Deepest message nesting walked (the codec's limit); a legit request with values nested 32 levels stays far below. */
export { MAX_MESSAGE_DEPTH };

// Field kinds: how the generated decoder reads a field.
const VARINT = 0; // int32, uint32, sint32, enum, bool: reader.uint32()-style varint
const VARINT64 = 1; // int64, uint64: varint read as a Long
const FIXED64 = 2; // fixed64, sfixed64, double
const FIXED32 = 3; // fixed32, float
const BYTES = 4; // string, bytes (one object, skipped here)
const MESSAGE = 5; // a sub-message: descended into
const REPEATED_STRING = 6; // repeated string: one value each
const PACKED_FIXED64 = 7; // repeated fixed64 (packed or not): one Long each
const PACKED_VARINT64 = 8; // repeated uint64 (packed or not): one Long each
const PACKED_DOUBLE = 9; // repeated double (packed or not): plain numbers, not counted

type Kind = number;
/** What a message counts as when it is decoded. */
const FREE = 0;
const VALUE = 1;
const ITEM = 2;

interface MessageSpec {
  name: string;
  counts: number;
  /** Field number → [kind, sub-message spec for MESSAGE]. */
  fields: ([Kind] | [Kind, MessageSpec])[];
}

function spec(name: string, counts: number): MessageSpec {
  return { name, counts, fields: [] };
}

function define(message: MessageSpec, fields: Record<number, Kind | MessageSpec>): void {
  for (const [no, f] of Object.entries(fields)) message.fields[Number(no)] = typeof f === 'number' ? [f] : [MESSAGE, f];
}

// The OTLP v1 messages of opentelemetry-proto v1.7.0 (packages/server/proto/), by field number.
const AnyValue = spec('AnyValue', VALUE);
const AttributeValue = spec('AnyValue', FREE); // the value of a KeyValue: counted with its key
const ArrayValue = spec('ArrayValue', VALUE);
const KeyValueList = spec('KeyValueList', VALUE);
const KeyValue = spec('KeyValue', VALUE);
const Scope = spec('InstrumentationScope', VALUE);
const EntityRef = spec('EntityRef', VALUE);
const Resource = spec('Resource', VALUE);
for (const value of [AnyValue, AttributeValue]) define(value, { 1: BYTES, 2: VARINT, 3: VARINT64, 4: FIXED64, 5: ArrayValue, 6: KeyValueList, 7: BYTES });
define(ArrayValue, { 1: AnyValue });
define(KeyValueList, { 1: KeyValue });
define(KeyValue, { 1: BYTES, 2: AttributeValue });
define(Scope, { 1: BYTES, 2: BYTES, 3: KeyValue, 4: VARINT });
define(EntityRef, { 1: BYTES, 2: BYTES, 3: REPEATED_STRING, 4: REPEATED_STRING });
define(Resource, { 1: KeyValue, 2: VARINT, 3: EntityRef });

const Status = spec('Status', VALUE);
const SpanEvent = spec('Span.Event', VALUE);
const SpanLink = spec('Span.Link', VALUE);
const Span = spec('Span', ITEM);
const ScopeSpans = spec('ScopeSpans', VALUE);
const ResourceSpans = spec('ResourceSpans', VALUE);
const TraceRequest = spec('ExportTraceServiceRequest', FREE);
define(Status, { 2: BYTES, 3: VARINT });
define(SpanEvent, { 1: FIXED64, 2: BYTES, 3: KeyValue, 4: VARINT });
define(SpanLink, { 1: BYTES, 2: BYTES, 3: BYTES, 4: KeyValue, 5: VARINT, 6: FIXED32 });
define(Span, { 1: BYTES, 2: BYTES, 3: BYTES, 4: BYTES, 5: BYTES, 6: VARINT, 7: FIXED64, 8: FIXED64, 9: KeyValue, 10: VARINT, 11: SpanEvent, 12: VARINT, 13: SpanLink, 14: VARINT, 15: Status, 16: FIXED32 });
define(ScopeSpans, { 1: Scope, 2: Span, 3: BYTES });
define(ResourceSpans, { 1: Resource, 2: ScopeSpans, 3: BYTES });
define(TraceRequest, { 1: ResourceSpans });

const LogRecord = spec('LogRecord', ITEM);
const LogBody = spec('AnyValue', VALUE);
const ScopeLogs = spec('ScopeLogs', VALUE);
const ResourceLogs = spec('ResourceLogs', VALUE);
const LogsRequest = spec('ExportLogsServiceRequest', FREE);
define(LogBody, { 1: BYTES, 2: VARINT, 3: VARINT64, 4: FIXED64, 5: ArrayValue, 6: KeyValueList, 7: BYTES });
define(LogRecord, { 1: FIXED64, 11: FIXED64, 2: VARINT, 3: BYTES, 5: LogBody, 6: KeyValue, 7: VARINT, 8: FIXED32, 9: BYTES, 10: BYTES, 12: BYTES });
define(ScopeLogs, { 1: Scope, 2: LogRecord, 3: BYTES });
define(ResourceLogs, { 1: Resource, 2: ScopeLogs, 3: BYTES });
define(LogsRequest, { 1: ResourceLogs });

const Exemplar = spec('Exemplar', VALUE);
const NumberDataPoint = spec('NumberDataPoint', ITEM);
const HistogramDataPoint = spec('HistogramDataPoint', ITEM);
const Buckets = spec('ExponentialHistogramDataPoint.Buckets', VALUE);
const ExponentialHistogramDataPoint = spec('ExponentialHistogramDataPoint', ITEM);
const ValueAtQuantile = spec('SummaryDataPoint.ValueAtQuantile', VALUE);
const SummaryDataPoint = spec('SummaryDataPoint', ITEM);
const Gauge = spec('Gauge', VALUE);
const Sum = spec('Sum', VALUE);
const Histogram = spec('Histogram', VALUE);
const ExponentialHistogram = spec('ExponentialHistogram', VALUE);
const Summary = spec('Summary', VALUE);
const Metric = spec('Metric', VALUE);
const ScopeMetrics = spec('ScopeMetrics', VALUE);
const ResourceMetrics = spec('ResourceMetrics', VALUE);
const MetricsRequest = spec('ExportMetricsServiceRequest', FREE);
define(Exemplar, { 7: KeyValue, 2: FIXED64, 3: FIXED64, 6: FIXED64, 4: BYTES, 5: BYTES });
define(NumberDataPoint, { 7: KeyValue, 2: FIXED64, 3: FIXED64, 4: FIXED64, 6: FIXED64, 5: Exemplar, 8: VARINT });
define(HistogramDataPoint, { 9: KeyValue, 2: FIXED64, 3: FIXED64, 4: FIXED64, 5: FIXED64, 6: PACKED_FIXED64, 7: PACKED_DOUBLE, 8: Exemplar, 10: VARINT, 11: FIXED64, 12: FIXED64 });
define(Buckets, { 1: VARINT, 2: PACKED_VARINT64 });
define(ExponentialHistogramDataPoint, { 1: KeyValue, 2: FIXED64, 3: FIXED64, 4: FIXED64, 5: FIXED64, 6: VARINT, 7: FIXED64, 8: Buckets, 9: Buckets, 10: VARINT, 11: Exemplar, 12: FIXED64, 13: FIXED64, 14: FIXED64 });
define(ValueAtQuantile, { 1: FIXED64, 2: FIXED64 });
define(SummaryDataPoint, { 7: KeyValue, 2: FIXED64, 3: FIXED64, 4: FIXED64, 5: FIXED64, 6: ValueAtQuantile, 8: VARINT });
define(Gauge, { 1: NumberDataPoint });
define(Sum, { 1: NumberDataPoint, 2: VARINT, 3: VARINT });
define(Histogram, { 1: HistogramDataPoint, 2: VARINT });
define(ExponentialHistogram, { 1: ExponentialHistogramDataPoint, 2: VARINT });
define(Summary, { 1: SummaryDataPoint });
define(Metric, { 1: BYTES, 2: BYTES, 3: BYTES, 5: Gauge, 7: Sum, 9: Histogram, 10: ExponentialHistogram, 11: Summary, 12: KeyValue });
define(ScopeMetrics, { 1: Scope, 2: Metric, 3: BYTES });
define(ResourceMetrics, { 1: Resource, 2: ScopeMetrics, 3: BYTES });
define(MetricsRequest, { 1: ResourceMetrics });

const REQUESTS: Record<Signal, MessageSpec> = { traces: TraceRequest, logs: LogsRequest, metrics: MetricsRequest };

/** The wire type each kind must arrive with (repeated numeric kinds also accept 2, packed). */
const WIRE_TYPE: Record<Kind, number> = {
  [VARINT]: 0,
  [VARINT64]: 0,
  [FIXED64]: 1,
  [FIXED32]: 5,
  [BYTES]: 2,
  [MESSAGE]: 2,
  [REPEATED_STRING]: 2,
  [PACKED_FIXED64]: 1,
  [PACKED_VARINT64]: 0,
  [PACKED_DOUBLE]: 1,
};

const NOUNS: Record<Signal, string> = { traces: 'spans', logs: 'log records', metrics: 'data points' };

class CensusWalk {
  items = 0;
  values = 0;

  constructor(
    private readonly reader: protobuf.Reader,
    private readonly signal: Signal,
    private readonly limits: CensusLimits,
  ) {}

  private addItem(): void {
    if (++this.items > this.limits.maxItems) throw tooManyItems(this.signal, this.limits.maxItems);
  }

  private addValues(n: number): void {
    this.values += n;
    if (this.values > this.limits.maxValues) throw tooManyValues(this.limits.maxValues);
  }

  /** Walks one message whose bytes end at `end`, the way its generated decoder reads it. */
  message(message: MessageSpec, end: number, depth: number): void {
    if (depth > MAX_MESSAGE_DEPTH) throw new OtlpError('otlp.malformed_protobuf', `the body nests messages deeper than ${MAX_MESSAGE_DEPTH} levels`);
    if (message.counts === ITEM) this.addItem();
    else if (message.counts === VALUE) this.addValues(1);
    const r = this.reader;
    while (r.pos < end) {
      const tag = r.uint32();
      const wireType = tag & 7;
      const field = message.fields[tag >>> 3];
      if (field === undefined) {
        r.skipType(wireType);
        continue;
      }
      const kind = field[0];
      if (wireType !== WIRE_TYPE[kind] && !(wireType === 2 && kind >= PACKED_FIXED64)) {
        throw new OtlpError('otlp.malformed_protobuf', `field ${tag >>> 3} of ${message.name} has wire type ${wireType}, not ${WIRE_TYPE[kind]}`);
      }
      switch (kind) {
        case VARINT:
          r.uint32();
          break;
        case VARINT64:
          r.skip();
          break;
        case FIXED64:
          r.skip(8);
          break;
        case FIXED32:
          r.skip(4);
          break;
        case BYTES:
          r.skip(r.uint32());
          break;
        case REPEATED_STRING:
          this.addValues(1);
          r.skip(r.uint32());
          break;
        case MESSAGE: {
          const length = r.uint32();
          this.message(field[1]!, r.pos + length, depth + 1);
          break;
        }
        default:
          this.repeatedNumber(kind, wireType);
      }
    }
  }

  /** A repeated numeric field, one element or (wire type 2) a packed run, read as the decoder does. */
  private repeatedNumber(kind: Kind, wireType: number): void {
    const r = this.reader;
    if (wireType !== 2) {
      if (kind === PACKED_VARINT64) r.skip();
      else r.skip(8);
      if (kind !== PACKED_DOUBLE) this.addValues(1);
      return;
    }
    const end = r.uint32() + r.pos;
    if (kind === PACKED_VARINT64) {
      let n = 0;
      while (r.pos < end) {
        r.skip();
        n++;
      }
      this.addValues(n);
      return;
    }
    // The decoder reads whole 8-byte elements while it is short of the end.
    const n = Math.ceil((end - r.pos) / 8);
    r.skip(n * 8);
    if (kind === PACKED_FIXED64) this.addValues(n);
  }
}

function tooManyItems(signal: Signal, max: number): OtlpError {
  return new OtlpError(
    'otlp.too_many_items',
    `the request holds more than ${max} ${NOUNS[signal]}, the limit per request (STELLA_OTLP_MAX_ITEMS_PER_REQUEST); send smaller batches`,
  );
}

function tooManyValues(max: number): OtlpError {
  return new OtlpError(
    'otlp.too_many_items',
    `the request holds more than ${max} attributes and other nested values, the limit per request (STELLA_OTLP_MAX_ATTRIBUTES_PER_REQUEST); send smaller batches`,
  );
}

/**
 * Counts the items and values of a protobuf export request. Throws `OtlpError`
 * (`otlp.too_many_items` past a limit, `otlp.malformed_protobuf` for bytes that do not frame).
 */
export function protobufCensus(signal: Signal, body: Uint8Array, limits: CensusLimits): Census {
  const walk = new CensusWalk(protobuf.Reader.create(body), signal, limits);
  try {
    walk.message(REQUESTS[signal], body.byteLength, 0);
  } catch (error) {
    if (error instanceof OtlpError) throw error;
    throw new OtlpError('otlp.malformed_protobuf', `the body is not a valid ${signal} export request: ${(error as Error).message}`, undefined, { cause: error });
  }
  return { items: walk.items, values: walk.values };
}

const ITEM_KEYS = new Set(['spans', 'logRecords', 'dataPoints']);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Counts the items and values of an OTLP/JSON body without parsing it: objects and array
 * elements, elements of `spans` / `logRecords` / `dataPoints` arrays as items, and the object
 * under a `value` key as part of its attribute. Malformed JSON is left for the parser to refuse.
 */
export function jsonCensus(signal: Signal, body: Uint8Array, limits: CensusLimits): Census {
  let items = 0;
  let values = 0;
  // One entry per open container: 0 object, 1 array, 2 array of items.
  const stack: number[] = [];
  let inString = false;
  let keyStart = -1;
  let escaped = false;
  /** The object member whose value comes next: 0 other, 1 an items key, 2 `value`. */
  let key = 0;
  let expectKey = false;
  let inScalar = false;
  const countValue = (isObject: boolean): void => {
    const top = stack.length === 0 ? -1 : stack[stack.length - 1]!;
    if (top === 2 && isObject) {
      if (++items > limits.maxItems) throw tooManyItems(signal, limits.maxItems);
      return;
    }
    if (top === 0 && (!isObject || key === 2)) return;
    if (top === -1) return;
    if (++values > limits.maxValues) throw tooManyValues(limits.maxValues);
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) {
        escaped = true;
        i++;
      } else if (c === QUOTE) {
        inString = false;
        if (keyStart >= 0) {
          key = keyKind(body, keyStart, i, escaped);
          keyStart = -1;
        }
      }
      continue;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        escaped = false;
        inScalar = false;
        if (expectKey && stack[stack.length - 1] === 0) {
          keyStart = i + 1;
          expectKey = false;
        } else countValue(false);
        break;
      case 0x7b: // {
        countValue(true);
        stack.push(0);
        expectKey = true;
        inScalar = false;
        break;
      case 0x5b: // [
        countValue(false);
        stack.push(stack[stack.length - 1] === 0 && key === 1 ? 2 : 1);
        inScalar = false;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        inScalar = false;
        key = 0;
        break;
      case 0x2c: // ,
        if (stack[stack.length - 1] === 0) expectKey = true;
        inScalar = false;
        break;
      case 0x3a: // :
        inScalar = false;
        break;
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        inScalar = false;
        break;
      default:
        if (!inScalar) {
          inScalar = true;
          countValue(false);
        }
    }
  }
  return { items, values };
}

function keyKind(body: Uint8Array, start: number, end: number, escaped: boolean): number {
  const length = end - start;
  if (!escaped && length !== 5 && length !== 10) return 0;
  const buffer = Buffer.from(body.buffer, body.byteOffset + start, length);
  let name: string;
  if (escaped) {
    try {
      name = JSON.parse(`"${buffer.toString('utf8')}"`) as string;
    } catch {
      return 0;
    }
  } else name = buffer.toString('latin1');
  if (ITEM_KEYS.has(name)) return 1;
  return name === 'value' ? 2 : 0;
}

/** Counts a request body in either encoding; throws `OtlpError` past a limit. */
export function requestCensus(signal: Signal, body: Uint8Array, format: 'protobuf' | 'json', limits: CensusLimits): Census {
  return format === 'json' ? jsonCensus(signal, body, limits) : protobufCensus(signal, body, limits);
}
