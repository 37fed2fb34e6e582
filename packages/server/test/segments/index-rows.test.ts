/**
 * What the index keeps of a record: one reference per trace, ingress and root spans, and each
 * service's earliest span of a trace it has no such span in; times in whole milliseconds,
 * converted exactly from nanoseconds.
 */
import { randomBytes } from 'node:crypto';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { logRows, traceRows } from '../../src/segments/index-rows.js';
import { metricRows } from '../../src/segments/metric-rows.js';
import { nanosToMillis, type LogsRequest, type LongLike, type MetricsRequest, type TraceRequest } from '../../src/segments/signal-records.js';

/** The Long class protobufjs decodes 64-bit fields to. */
const Long = protobuf.util.Long as unknown as { fromString(text: string, unsigned?: boolean): LongLike };

function span(traceId: Buffer, name: string, kind: number, startMs: number, parent?: Buffer) {
  return { traceId, spanId: randomBytes(8), parentSpanId: parent ?? new Uint8Array(0), traceState: '', name, kind, startTimeUnixNano: startMs * 1e6, endTimeUnixNano: (startMs + 5) * 1e6, attributes: [], events: [], links: [], status: null };
}

describe('traceRows', () => {
  it('indexes roots and ingress spans, one reference per trace, and a service that only has inner spans by its earliest one', () => {
    const t1 = randomBytes(16);
    const t2 = randomBytes(16);
    const root = span(t1, 'GET /a', 2, 1000);
    const request = {
      resourceSpans: [
        { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeSpans: [{ spans: [root, span(t1, 'db.query', 3, 1001, root.spanId), span(t1, 'render', 1, 1002, root.spanId)] }] },
        // A worker whose spans all have a remote parent and none is SERVER/CONSUMER.
        { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'worker' } }] }, scopeSpans: [{ spans: [span(t2, 'later', 1, 2005, randomBytes(8)), span(t2, 'first', 3, 2001, randomBytes(8)), span(t1, 'consume', 5, 1010, randomBytes(8))] }] },
      ],
    } as unknown as TraceRequest;
    const rows = traceRows(request);
    expect(rows.traceIds.sort()).toEqual([t1.toString('hex'), t2.toString('hex')].sort());
    expect(rows.spans.map((r) => `${r.service}:${r.name}`).sort()).toEqual(['api:GET /a', 'worker:consume', 'worker:first']);
  });
});

describe('nanosecond times in milliseconds', () => {
  // Exact-millisecond Unix nano times above 2^53: as JS numbers divided by 1e6, the second and
  // the third come out 1 ms early (…001.9998); the first was fine that way too.
  const EXACT = [
    ['1764600000123000000', 1764600000123],
    ['1764600000002000000', 1764600000002],
    ['1764600000010000000', 1764600000010],
    ['1764600000123999999', 1764600000123],
    ['9223372036854775807', 9223372036854],
  ] as const;

  it('converts every form of a 64-bit value exactly: decimal text, Long (signed and unsigned), number', () => {
    for (const [text, ms] of EXACT) {
      expect(nanosToMillis(text), text).toBe(ms);
      expect(nanosToMillis(Long.fromString(text)), `Long ${text}`).toBe(ms);
      expect(nanosToMillis(Long.fromString(text, true)), `unsigned Long ${text}`).toBe(ms);
    }
    expect(nanosToMillis(Long.fromString('18446744073709551615', true))).toBe(18446744073709);
    expect(nanosToMillis(1_000_000_999)).toBe(1000);
    expect(nanosToMillis(0)).toBe(0);
    expect(nanosToMillis(null)).toBe(0);
    // Before 1970 it rounds down, as Math.floor does.
    expect(nanosToMillis('-1')).toBe(-1);
    expect(nanosToMillis('-1000000')).toBe(-1);
    expect(nanosToMillis('-1000001')).toBe(-2);
    // Not an integer: what the plain conversion gives.
    expect(nanosToMillis('not a number')).toBeNaN();
    expect(nanosToMillis(2_500_000.5)).toBe(2);
  });

  it('indexes spans, log records and metric points at their exact millisecond', () => {
    for (const [text, ms] of EXACT.slice(0, 3)) {
      const start = Long.fromString(text, true);
      const spans = traceRows({
        resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [{ traceId: randomBytes(16), spanId: randomBytes(8), parentSpanId: new Uint8Array(0), name: 'GET /x', kind: 2, startTimeUnixNano: start, endTimeUnixNano: start, attributes: [], events: [], links: [], status: null }] }] }],
      } as unknown as TraceRequest);
      expect(spans.spans.map((s) => s.start_ms)).toEqual([ms]);
      const logs = logRows({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: [{ timeUnixNano: text, body: { stringValue: 'x' } }] }] }] } as unknown as LogsRequest, 5);
      expect(logs.logs.map((l) => l.ts_ms)).toEqual([ms]);
      const observed = logRows({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: [{ timeUnixNano: 0, observedTimeUnixNano: start, body: { stringValue: 'x' } }] }] }] } as unknown as LogsRequest, 5);
      expect(observed.logs.map((l) => l.ts_ms)).toEqual([ms]);
      const points = metricRows(
        { resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics: [{ name: 'queue_depth', gauge: { dataPoints: [{ timeUnixNano: start, asDouble: 3, attributes: [] }] } }] }] }] } as unknown as MetricsRequest,
        5,
      );
      expect(points.map((p) => p.ts_ms)).toEqual([ms]);
    }
  });
});
