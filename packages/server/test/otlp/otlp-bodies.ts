/**
 * Request bodies for the ingest tests: built from bytes for the bounded-ingest tests (hundreds of
 * thousands of spans in milliseconds), and small traces and log records for the crash and cluster tests.
 */
import { randomBytes } from 'node:crypto';
import protobuf from 'protobufjs/minimal.js';
import { REQUEST_TYPES } from '../../src/segments/signal-records.js';

/**
 * Wraps `spanEntries` (already-encoded ScopeSpans.spans entries, tags included) in one
 * ExportTraceServiceRequest whose resource has one attribute (`service.name` unless told).
 */
export function traceRequest(spanEntries: Uint8Array, value = 'bomb-svc', key = 'service.name'): Buffer {
  const resource = protobuf.Writer.create();
  resource.uint32((1 << 3) | 2).fork(); // attributes: KeyValue
  resource.uint32((1 << 3) | 2).string(key);
  resource.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(value).ldelim();
  resource.ldelim();
  const resourceSpans = protobuf.Writer.create();
  resourceSpans.uint32((1 << 3) | 2).bytes(resource.finish());
  resourceSpans.uint32((2 << 3) | 2).bytes(spanEntries); // scopeSpans: ScopeSpans { spans… }
  const request = protobuf.Writer.create();
  request.uint32((1 << 3) | 2).bytes(resourceSpans.finish());
  return Buffer.from(request.finish());
}

/**
 * `n` spans, each `0x12 len Span` inside ScopeSpans. With `traces`, spans are spread over that
 * many traces of `n / traces` spans: the first of each is a SERVER root, the rest INTERNAL
 * children of it; ids are distinct and non-zero, times are real.
 */
export function spanEntries(n: number, traces: number): Buffer {
  // Span: traceId(1) spanId(2) parentSpanId(4, children only) name(5)='x' kind(6) start(7) end(8)
  const rootLen = 18 + 10 + 3 + 2 + 9 + 9;
  const childLen = rootLen + 10;
  const perTrace = Math.ceil(n / traces);
  const out = Buffer.alloc(n * (childLen + 2));
  let o = 0;
  const start = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < n; i++) {
    const t = Math.floor(i / perTrace);
    const root = i % perTrace === 0;
    out[o++] = 0x12;
    out[o++] = root ? rootLen : childLen;
    out[o++] = 0x0a;
    out[o++] = 16;
    out.writeUInt32BE(0xabc00000 + t + 1, o + 12);
    out.writeUInt32BE(0x5a5a5a5a, o);
    o += 16;
    out[o++] = 0x12;
    out[o++] = 8;
    out.writeUInt32BE(0x10000000, o);
    out.writeUInt32BE(i + 1, o + 4);
    o += 8;
    if (!root) {
      out[o++] = 0x22;
      out[o++] = 8;
      out.writeUInt32BE(0x10000000, o);
      out.writeUInt32BE(t * perTrace + 1, o + 4);
      o += 8;
    }
    out[o++] = 0x2a;
    out[o++] = 1;
    out[o++] = 0x78; // 'x'
    out[o++] = 0x30;
    out[o++] = root ? 2 : 1;
    out[o++] = 0x39;
    out.writeBigUInt64LE(start + BigInt(i) * 1000n, o);
    o += 8;
    out[o++] = 0x41;
    out.writeBigUInt64LE(start + BigInt(i) * 1000n + 500n, o);
    o += 8;
  }
  return out.subarray(0, o);
}

/** The trace id (hex) of trace `t` in `spanEntries`. */
export function traceIdOf(t: number): string {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(0x5a5a5a5a, 0);
  b.writeUInt32BE(0xabc00000 + t + 1, 12);
  return b.toString('hex');
}

/** `n` copies of one tiny span (same ids): the record-count bomb, which gzip shrinks to almost nothing. */
export function identicalSpanEntries(n: number): Buffer {
  const span = Buffer.from([0x0a, 16, ...Buffer.alloc(16, 0x11), 0x12, 8, ...Buffer.alloc(8, 0x22), 0x2a, 1, 0x78]);
  const entry = Buffer.concat([Buffer.from([0x12, span.length]), span]);
  const out = Buffer.alloc(entry.length * n);
  for (let i = 0; i < n; i++) entry.copy(out, i * entry.length);
  return out;
}

/** `n` spans that each carry one `bytes`-long string attribute: a large body with few items. */
export function heavySpanEntries(n: number, bytes: number): Buffer {
  const writer = protobuf.Writer.create();
  const value = 'v'.repeat(bytes);
  const traceId = Buffer.alloc(16, 0x33);
  for (let i = 0; i < n; i++) {
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(i + 1, 4);
    writer.uint32((2 << 3) | 2).fork();
    writer.uint32((1 << 3) | 2).bytes(traceId);
    writer.uint32((2 << 3) | 2).bytes(spanId);
    writer.uint32((5 << 3) | 2).string('heavy');
    writer.uint32((6 << 3) | 0).int32(1);
    writer.uint32((9 << 3) | 2).fork().uint32((1 << 3) | 2).string('payload').uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(value).ldelim().ldelim();
    writer.ldelim();
  }
  return Buffer.from(writer.finish());
}

/**
 * One trace as an OTLP protobuf request: a server root span and `spans - 1` children, now, of
 * `service`; `pad` bytes of attribute on each span make the request larger.
 */
export function traceBody(traceId: Buffer, options: { service: string; spans: number; rootName: string; pad?: number }): Uint8Array {
  const now = BigInt(Date.now()) * 1_000_000n;
  const rootId = randomBytes(8);
  const spans = Array.from({ length: options.spans }, (_, i) => ({
    traceId,
    spanId: i === 0 ? rootId : randomBytes(8),
    parentSpanId: i === 0 ? undefined : rootId,
    name: i === 0 ? options.rootName : `step-${i}`,
    kind: i === 0 ? 2 : 1,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 1_000_000n),
    ...(options.pad ? { attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(options.pad) } }] } : {}),
  }));
  const type = REQUEST_TYPES.traces;
  return type.encode(type.fromObject({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: options.service } }] }, scopeSpans: [{ spans }] }] }) as never).finish();
}

/** One log record, now, of `service`, with `marker` as its body (and the trace id when given), as an OTLP protobuf request. */
export function logBody(service: string, marker: string, traceId?: Buffer): Uint8Array {
  const type = REQUEST_TYPES.logs;
  const record = { timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), severityNumber: 9, body: { stringValue: marker }, ...(traceId ? { traceId } : {}) };
  return type.encode(type.fromObject({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeLogs: [{ logRecords: [record] }] }] }) as never).finish();
}
