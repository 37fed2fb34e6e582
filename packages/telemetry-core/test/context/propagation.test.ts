import { describe, expect, it } from 'vitest';
import {
  currentContext,
  extractTraceContext,
  injectTraceHeaders,
  restoreJobContext,
  serializeJobContext,
  withContext,
  withOtelContext,
  openSpan,
} from '../../src/index.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('W3C propagation', () => {
  it('extracts traceparent, tracestate and baggage and injects them back', () => {
    const ctx = extractTraceContext({ traceparent: TRACEPARENT, tracestate: 'vendor=abc', baggage: 'k1=v1' });
    const headers = injectTraceHeaders({} as Record<string, string>, ctx);
    expect(headers['traceparent']).toBe(TRACEPARENT);
    expect(headers['tracestate']).toBe('vendor=abc');
    expect(headers['baggage']).toBe('k1=v1');
  });

  it('ignores malformed traceparent values instead of throwing', () => {
    for (const bad of ['garbage', `00-${'0'.repeat(32)}-${SPAN_ID}-01`, `zz-${TRACE_ID}-${SPAN_ID}-01`, '']) {
      const headers = injectTraceHeaders({} as Record<string, string>, extractTraceContext({ traceparent: bad }));
      expect(headers['traceparent']).toBeUndefined();
    }
  });

  it('reads headers case-insensitively from plain records and from fetch Headers', () => {
    const fromRecord = injectTraceHeaders({} as Record<string, string>, extractTraceContext({ TraceParent: TRACEPARENT }));
    expect(fromRecord['traceparent']).toBe(TRACEPARENT);
    const fromHeaders = injectTraceHeaders({} as Record<string, string>, extractTraceContext(new Headers({ traceparent: TRACEPARENT })));
    expect(fromHeaders['traceparent']).toBe(TRACEPARENT);
  });

  it('a span opened under an extracted context continues the trace with a new span id', () => {
    const scope = openSpan('api.test', {}, extractTraceContext({ traceparent: TRACEPARENT }));
    withOtelContext(scope.ctx, () => {
      const ctx = currentContext();
      expect(ctx.trace_id).toBe(TRACE_ID);
      expect(ctx.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(ctx.span_id).not.toBe(SPAN_ID);
      expect(ctx.parent_span_id).toBe(SPAN_ID);
    });
  });
});

describe('job context', () => {
  function producer(): Record<string, unknown> {
    const scope = openSpan('orchestrator.schedule', {}, extractTraceContext({ traceparent: TRACEPARENT }));
    return withOtelContext(scope.ctx, () =>
      withContext({ tenant_id: 'acme', job_id: 'job-1', actor: 'svc:orchestrator' }, () => ({
        kind: 'policy.evaluate',
        telemetry: serializeJobContext(),
      })),
    );
  }

  it('serializes to plain JSON and restores in continue mode (same trace, child span)', async () => {
    const payload = JSON.parse(JSON.stringify(producer())) as { telemetry: Record<string, string> };
    const producerSpan = payload.telemetry['traceparent']!.split('-')[2];
    const seen = await restoreJobContext(payload.telemetry, async () => currentContext(), { mode: 'continue' });
    expect(seen.trace_id).toBe(TRACE_ID);
    expect(seen.parent_span_id).toBe(producerSpan);
    expect(seen.span_id).not.toBe(producerSpan);
    expect(seen.tenant_id).toBe('acme');
    expect(seen.job_id).toBe('job-1');
  });

  it('restores in link mode (new trace, fields kept)', () => {
    const payload = producer() as { telemetry: Record<string, string> };
    const seen = restoreJobContext(payload.telemetry, () => currentContext(), { mode: 'link' });
    expect(seen.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.trace_id).not.toBe(TRACE_ID);
    expect(seen.parent_span_id).toBeUndefined();
    expect(seen.tenant_id).toBe('acme');
  });

  it('tolerates payloads without or with malformed context', () => {
    for (const payload of [undefined, null, 42, { traceparent: 'nope', tenant_id: 7 }]) {
      const seen = restoreJobContext(payload, () => currentContext());
      expect(seen.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(seen.tenant_id).toBeUndefined();
    }
  });
});
