/** What the index keeps of a record: one reference per trace, ingress and root spans, and each service's earliest span of a trace it has no such span in. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { traceRows } from '../../src/segments/index-rows.js';
import type { TraceRequest } from '../../src/segments/signal-records.js';

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
