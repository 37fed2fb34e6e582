import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CandidateSpan, enterRequestContext, fastifyTelemetry, initTelemetry, withSpan, type TelemetryHandle } from '../../src/index.js';

let handle: TelemetryHandle | undefined;
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await handle?.shutdown();
  handle = undefined;
});

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

async function start(ratio: number, tail?: { slowThresholdMs?: number } | false): Promise<InMemorySpanExporter> {
  const exporter = new InMemorySpanExporter();
  handle = await initTelemetry({
    service: 'candidate-test',
    exporters: { spans: exporter },
    sampling: { ratio, ...(tail === undefined ? {} : { tail }) },
    metrics: { requestMetrics: false },
    batch: { traces: { scheduledDelayMillis: 60_000 } },
  });
  return exporter;
}

async function app(): Promise<string> {
  const a = Fastify();
  apps.push(a);
  await a.register(fastifyTelemetry, { service: 'candidate-test' });
  a.addHook('preHandler', (req, _reply, done) => enterRequestContext(req, { tenant_id: String(req.headers['x-tenant'] ?? 'anon') }, done));
  a.get('/ok', async () => withSpan('policy.evaluate', { 'stella.policy.version': 'p-1' }, () => ({ ok: true })));
  a.get('/fail', async (_req, reply) => {
    withSpan('policy.evaluate', {}, () => undefined);
    return reply.code(503).send({ error: 'unavailable' });
  });
  a.get('/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 40));
    return { ok: true };
  });
  await a.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
}

describe('head-dropped spans are candidates, not SDK spans', () => {
  it('hands out candidates the SDK never sees, under fresh valid ids, with sampled spans untouched', async () => {
    const exporter = await start(0);
    const seen: string[] = [];
    // Every span the SDK records passes its processors' onStart: count them.
    const probe: SpanProcessor = {
      onStart: (span) => void seen.push(span.name),
      onEnd: () => undefined,
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    (handle!.tracerProvider as unknown as { _activeSpanProcessor: { _spanProcessors: SpanProcessor[] } })._activeSpanProcessor._spanProcessors.push(probe);
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      withSpan('test.root', {}, (root) => {
        expect(root).toBeInstanceOf(CandidateSpan);
        expect(root.spanContext().traceFlags & 1).toBe(0);
        ids.add(root.spanContext().traceId);
        withSpan('test.child', {}, (child) => {
          expect(child).toBeInstanceOf(CandidateSpan);
          expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
          expect(trace.isSpanContextValid(child.spanContext())).toBe(true);
        });
      });
    }
    expect(ids.size).toBe(200);
    expect(seen).toEqual([]);
    await handle!.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(handle!.stats().tail.discarded).toBe(200);
  });

  it('leaves sampled traces to the SDK, and gives plain non-recording spans when tail sampling is off', async () => {
    await start(1);
    withSpan('test.root', {}, (root) => expect(root).not.toBeInstanceOf(CandidateSpan));
    await handle!.shutdown();
    handle = undefined;
    await start(0, false);
    withSpan('test.root', {}, (root) => {
      expect(root).not.toBeInstanceOf(CandidateSpan);
      expect(root.isRecording()).toBe(false);
    });
  });
});

describe('the ingress span decides for a head-dropped request', () => {
  it('keeps a failed request whole, under the ids the response echoed and the caller as parent', async () => {
    const exporter = await start(0);
    const base = await app();
    const res = await fetch(`${base}/fail`, { headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-00`, 'x-tenant': 'acme' } });
    expect(res.status).toBe(503);
    const echoed = res.headers.get('traceparent')!;
    const [, traceId, spanId, flags] = echoed.split('-');
    expect(traceId).toBe(CALLER_TRACE);
    expect(flags).toBe('00');
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['api.fail', 'policy.evaluate']);
    const ingress = spans.find((s) => s.name === 'api.fail')!;
    expect(ingress.spanContext().spanId).toBe(spanId);
    expect(ingress.spanContext().traceFlags & 1).toBe(1);
    expect(ingress.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(ingress.attributes).toMatchObject({
      'http.route': '/fail',
      'http.response.status_code': 503,
      'stella.tenant_id': 'acme',
      'stella.sampling.reason': 'tail.error',
    });
    expect(ingress.status.code).toBe(2);
    expect(ingress.resource.attributes['service.name']).toBe('candidate-test');
    const child = spans.find((s) => s.name === 'policy.evaluate')!;
    expect(child.parentSpanContext?.spanId).toBe(spanId);
    expect(handle!.tail.wasKept(CALLER_TRACE)).toBe(true);
    expect(handle!.stats().tail.kept).toEqual({ error: 1 });
  });

  it('keeps a slow request and discards a fast one', async () => {
    const exporter = await start(0, { slowThresholdMs: 30 });
    const base = await app();
    expect((await fetch(`${base}/ok`)).status).toBe(200);
    expect((await fetch(`${base}/slow`)).status).toBe(200);
    await handle!.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['api.slow']);
    expect(spans[0]!.attributes['stella.sampling.reason']).toBe('tail.slow');
    const ms = (spans[0]!.duration[0] * 1e9 + spans[0]!.duration[1]) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(30);
    expect(handle!.stats().tail.discarded).toBe(1);
  });
});
