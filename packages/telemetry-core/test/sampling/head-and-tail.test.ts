import { afterEach, describe, expect, it } from 'vitest';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { initTelemetry, withContext, withSpan, type TelemetryHandle } from '../../src/index.js';

let handle: TelemetryHandle | undefined;
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
});

async function start(options: Parameters<typeof initTelemetry>[0]['sampling'], now?: () => number): Promise<InMemorySpanExporter> {
  const exporter = new InMemorySpanExporter();
  handle = await initTelemetry({ service: 'sampling-test', exporters: { spans: exporter }, sampling: options, now, metrics: { requestMetrics: false } });
  return exporter;
}

describe('head sampling', () => {
  it('samples new traces at the configured ratio and children follow their root', async () => {
    const exporter = await start({ ratio: 0.1 });
    const n = 4000;
    for (let i = 0; i < n; i++) {
      withSpan('test.root', {}, () => withSpan('test.child', {}, () => undefined));
    }
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    const roots = spans.filter((s) => s.name === 'test.root');
    const children = spans.filter((s) => s.name === 'test.child');
    // Binomial(4000, 0.1): mean 400, sd ≈ 19; ±6 sd keeps the test from flaking yet catches a wrong ratio.
    expect(roots.length).toBeGreaterThan(400 - 114);
    expect(roots.length).toBeLessThan(400 + 114);
    expect(children.length).toBe(roots.length);
    const rootTraces = new Set(roots.map((s) => s.spanContext().traceId));
    for (const c of children) expect(rootTraces.has(c.spanContext().traceId)).toBe(true);
    // Everything the head dropped and the tail did not keep was discarded and counted.
    expect(handle!.stats().tail.discarded).toBe(n - roots.length);
  });

  it('respects a different per-service ratio', async () => {
    const exporter = await start({ ratio: 0.5 });
    for (let i = 0; i < 2000; i++) withSpan('test.root', {}, () => undefined);
    await handle!.forceFlush();
    const count = exporter.getFinishedSpans().length;
    expect(count).toBeGreaterThan(1000 - 135);
    expect(count).toBeLessThan(1000 + 135);
  });
});

describe('tail buffer', () => {
  it('keeps head-dropped traces with an error anywhere, whole', async () => {
    const exporter = await start({ ratio: 0 });
    expect(() =>
      withSpan('test.root', {}, () => {
        withSpan('test.ok-child', {}, () => undefined);
        withSpan('test.failing-child', {}, () => {
          throw new Error('boom');
        });
      }),
    ).toThrow('boom');
    withSpan('test.root', {}, () => withSpan('test.ok-child', {}, () => undefined));
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['test.failing-child', 'test.ok-child', 'test.root']);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    const root = spans.find((s) => s.name === 'test.root')!;
    expect(root.attributes['stella.sampling.reason']).toBe('tail.error');
    expect(spans.every((s) => (s.spanContext().traceFlags & 1) === 1)).toBe(true);
    expect(handle!.stats().tail.kept).toEqual({ error: 1 });
    expect(handle!.stats().tail.discarded).toBe(1);
  });

  it('keeps slow roots by per-route threshold and discards fast ones', async () => {
    const exporter = await start({ ratio: 0, tail: { slowThresholdMs: 2000, slowThresholdByRoute: { 'api.export': 10_000 } } });
    const tracer = trace.getTracer('test');
    const t = Date.now();
    tracer.startSpan('api.sbom', { startTime: t - 2500 }).end(t); // slower than the default 2 s
    tracer.startSpan('api.export', { startTime: t - 2500 }).end(t); // within its 10 s route threshold
    tracer.startSpan('api.sbom', { startTime: t - 100 }).end(t);
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.name).toBe('api.sbom');
    expect(spans[0]!.attributes['stella.sampling.reason']).toBe('tail.slow');
  });

  it('keeps a trace whose error span ends after its root through the decision memory', async () => {
    const exporter = await start({ ratio: 0 });
    const tracer = trace.getTracer('test');
    const root = tracer.startSpan('test.root');
    const ctx = trace.setSpan(context.active(), root);
    const child = tracer.startSpan('test.child', {}, ctx);
    child.setStatus({ code: SpanStatusCode.ERROR });
    child.end();
    root.end();
    const late = tracer.startSpan('test.late', {}, ctx);
    late.end();
    await handle!.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['test.child', 'test.late', 'test.root']);
  });

  it('holds its byte caps under a burst, per tenant and in total', async () => {
    let now = 1_000_000;
    const exporter = await start({ ratio: 0, tail: { maxBytes: 64 * 1024, maxBytesPerTenant: 24 * 1024, maxTraceAgeMs: 60_000, slowThresholdMs: 600_000 } }, () => now);
    const tracer = trace.getTracer('test');
    const roots: Array<{ end(): void }> = [];
    const burst = (tenant: string, traces: number): void => {
      withContext({ tenant_id: tenant }, () => {
        for (let i = 0; i < traces; i++) {
          const root = tracer.startSpan('test.root');
          roots.push(root);
          const ctx = trace.setSpan(context.active(), root);
          for (let j = 0; j < 5; j++) {
            tracer.startSpan('test.child', { attributes: { 'payload.note': 'x'.repeat(200), index: j } }, ctx).end();
          }
        }
      });
    };
    burst('noisy', 2000);
    const tail = handle!.tail;
    expect(tail.bufferedBytes('noisy')).toBeLessThanOrEqual(24 * 1024);
    expect(tail.bufferedBytes('noisy')).toBeGreaterThan(20 * 1024);
    const droppedAfterNoisy = handle!.stats().dropped['traces|tail_buffer_full'] ?? 0;
    expect(droppedAfterNoisy).toBeGreaterThan(9000);
    // A second tenant still gets its own share: the noisy one did not starve it.
    burst('quiet', 3);
    expect(tail.bufferedBytes('quiet')).toBeGreaterThan(0);
    burst('third', 2000);
    burst('fourth', 2000);
    expect(tail.bufferedBytes()).toBeLessThanOrEqual(64 * 1024);
    expect(handle!.stats().tail.bufferedBytes).toBe(tail.bufferedBytes());
    // Roots end (none slow or failed): every buffered trace is decided and its bytes released.
    for (const r of roots) r.end();
    expect(tail.bufferedBytes()).toBe(0);
    // Traces whose root never ends are swept after maxTraceAgeMs (injected clock, no sleeping).
    withContext({ tenant_id: 'leaky' }, () => {
      const root = tracer.startSpan('test.never-ends');
      tracer.startSpan('test.child', {}, trace.setSpan(context.active(), root)).end();
    });
    expect(tail.bufferedBytes('leaky')).toBeGreaterThan(0);
    now += 61_000;
    withSpan('test.trigger', {}, () => withSpan('test.child', {}, () => undefined));
    expect(tail.bufferedBytes('leaky')).toBe(0);
    expect(handle!.stats().dropped['traces|tail_expired']).toBe(1);
    await handle!.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});
