/**
 * The OTLP wire protocol around the records (segments/signal-records.ts): Export*ServiceResponse
 * with partial success, the gRPC method paths, and OTLP/JSON bodies mapped onto the protobuf
 * messages.
 */
import { boundedReader, messageType, REQUEST_TYPES, type MessageType, type RequestOf, type Signal } from '../segments/signal-records.js';

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

