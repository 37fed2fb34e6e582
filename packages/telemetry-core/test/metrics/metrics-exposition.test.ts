import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  enterRequestContext,
  fastifyMetrics,
  fastifyTelemetry,
  initTelemetry,
  metricsHandler,
  observeQueueDepth,
  recordJourney,
  startJourney,
  withSpan,
  type TelemetryHandle,
} from '../../src/index.js';
import { parseOpenMetrics, type MetricFamily } from './openmetrics-parser.js';

let handle: TelemetryHandle | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  await handle?.shutdown();
  handle = undefined;
});

const OM = 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5';

async function startApp(options: Partial<Parameters<typeof initTelemetry>[0]> = {}): Promise<string> {
  handle = await initTelemetry({ service: 'metrics-test', exporters: { spans: new InMemorySpanExporter() }, sampling: { ratio: 1 }, ...options });
  app = Fastify();
  await app.register(fastifyTelemetry, { service: 'metrics-test', ignoreRoutes: ['/metrics'] });
  await app.register(fastifyMetrics);
  app.addHook('preHandler', (req, _reply, done) => enterRequestContext(req, { tenant_id: String(req.headers['x-tenant'] ?? 'acme') }, done));
  app.get('/work/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.get('/fail', async (_req, reply) => reply.code(503).send({ error: 'down' }));
  app.get('/route/:n', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

function family(families: MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name}; have ${families.map((x) => x.name).join(', ')}`);
  return f;
}

describe('metrics exposition', () => {
  it('serves parseable OpenMetrics with golden signals, SLO buckets and exemplars carrying trace ids', async () => {
    const base = await startApp();
    const traceIds = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${base}/work/${i}`);
      traceIds.add(r.headers.get('traceparent')!.split('-')[1]!);
    }
    expect((await fetch(`${base}/fail`)).status).toBe(503);

    const res = await fetch(`${base}/metrics`, { headers: { accept: OM } });
    expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const families = parseOpenMetrics(await res.text());

    const duration = family(families, 'http_server_request_duration_seconds');
    expect(duration.type).toBe('histogram');
    expect(duration.unit).toBe('seconds');
    const buckets = duration.samples.filter((s) => s.name.endsWith('_bucket') && s.labels['http_route'] === '/work/:id');
    for (const le of ['2', '5', '30', '90', '+Inf']) expect(buckets.some((b) => b.labels['le'] === le)).toBe(true);
    expect(buckets[0]!.labels).toMatchObject({ http_request_method: 'GET', http_response_status_code: '200', stella_tenant_id: 'acme' });
    const count = duration.samples.find((s) => s.name.endsWith('_count') && s.labels['http_route'] === '/work/:id');
    expect(count!.value).toBe(5);
    const exemplars = buckets.filter((b) => b.exemplar).map((b) => b.exemplar!);
    expect(exemplars.length).toBeGreaterThan(0);
    for (const e of exemplars) {
      expect(e.labels['trace_id']).toMatch(/^[0-9a-f]{32}$/);
      expect(traceIds.has(e.labels['trace_id']!)).toBe(true);
      expect(e.labels['span_id']).toMatch(/^[0-9a-f]{16}$/);
    }

    const errors = family(families, 'http_server_request_errors');
    expect(errors.type).toBe('counter');
    expect(errors.samples).toEqual([expect.objectContaining({ name: 'http_server_request_errors_total', value: 1, labels: expect.objectContaining({ http_route: '/fail', http_response_status_code: '503' }) })]);

    for (const name of ['nodejs_eventloop_delay_p99_seconds', 'process_memory_usage_bytes', 'telemetry_export_queue_depth']) {
      expect(family(families, name).type).toBe('gauge');
    }
    expect(family(families, 'process_cpu_time_seconds').samples.map((s) => s.labels['cpu_mode']).sort()).toEqual(['system', 'user']);
    expect(family(families, 'collector_export_failures').samples.map((s) => s.name)).toContain('collector_export_failures_total');
    expect(family(families, 'telemetry_dropped').samples).toContainEqual(
      expect.objectContaining({ name: 'telemetry_dropped_total', labels: { reason: 'queue_full', signal: 'traces' }, value: 0 }),
    );
    const target = family(families, 'target');
    expect(target.type).toBe('info');
    expect(target.samples[0]!.labels['service_name']).toBe('metrics-test');
  });

  it('falls back to Prometheus text without exemplars for scrapers that do not ask for OpenMetrics', async () => {
    const base = await startApp();
    await fetch(`${base}/work/1`);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    expect(text).toContain('# TYPE collector_export_failures_total counter');
    expect(text).not.toContain('# EOF');
    expect(text).not.toContain('trace_id=');
  });

  it('records journeys and queue depth, with the active span as exemplar', async () => {
    await startApp();
    let traceId = '';
    withSpan('sbom.ingest', {}, (span) => {
      traceId = span.spanContext().traceId;
      expect(recordJourney('sbom_ingest', 3.2, { 'stella.tenant_id': 'acme' })).toBe(true);
    });
    const timer = startJourney('policy_evaluate');
    expect(timer.end('failure')).toBeGreaterThanOrEqual(0);
    expect(recordJourney('not_a_journey' as never, 1)).toBe(false);
    let depth = 7;
    const stop = observeQueueDepth('ingest', () => depth);
    const families = parseOpenMetrics((await handle!.renderMetrics(OM)).body);
    const journeys = family(families, 'stella_journey_duration_seconds');
    const sbomBucket = journeys.samples.find((s) => s.labels['stella_journey'] === 'sbom_ingest' && s.labels['le'] === '5')!;
    expect(sbomBucket.value).toBe(1);
    expect(sbomBucket.exemplar).toMatchObject({ labels: { trace_id: traceId }, value: 3.2 });
    expect(journeys.samples.find((s) => s.name.endsWith('_count') && s.labels['stella_journey'] === 'policy_evaluate')!.labels['outcome']).toBe('failure');
    expect(family(families, 'stella_queue_depth').samples).toEqual([expect.objectContaining({ labels: { queue: 'ingest' }, value: 7 })]);
    depth = 2;
    expect((await handle!.renderMetrics(OM)).body).toContain('stella_queue_depth{queue="ingest"} 2');
    stop();
  });

  it('caps label sets per tenant and per metric into an otel.metric.overflow series, and counts it', async () => {
    const base = await startApp({ metrics: { cardinality: { maxSeriesPerTenant: 3, maxSeriesPerMetric: 6 } } });
    for (let i = 0; i < 5; i++) await fetch(`${base}/route/${i}`, { headers: { 'x-tenant': 'noisy' } });
    // Pretend each path is its own route: the observer sees distinct routes only via custom names.
    const h = handle!.metrics.histogram('test.latency', 'test');
    for (let i = 0; i < 5; i++) h.record(0.1, { 'stella.tenant_id': 'noisy', route: `/r${i}` });
    for (let i = 0; i < 5; i++) h.record(0.1, { 'stella.tenant_id': `t${i}`, route: '/same' });
    const families = parseOpenMetrics((await handle!.renderMetrics(OM)).body);
    const counts = family(families, 'test_latency_seconds').samples.filter((s) => s.name.endsWith('_count'));
    const noisy = counts.filter((s) => s.labels['stella_tenant_id'] === 'noisy');
    expect(noisy).toHaveLength(3);
    const overflow = counts.filter((s) => s.labels['otel_metric_overflow'] === 'true');
    expect(overflow).toHaveLength(1);
    // 5 distinct label sets fit the metric budget (6, one kept for the overflow series) ...
    expect(counts.length).toBe(6);
    // ... 2 noisy sets hit the tenant cap, then t2..t4 hit the metric cap.
    expect(overflow[0]!.value).toBe(5);
    const overflowCounter = family(families, 'telemetry_metric_overflow').samples;
    expect(overflowCounter).toContainEqual(expect.objectContaining({ labels: { metric: 'test.latency', reason: 'tenant_limit' }, value: 2 }));
    expect(overflowCounter).toContainEqual(expect.objectContaining({ labels: { metric: 'test.latency', reason: 'metric_limit' }, value: 3 }));
  });

  it('serves the same exposition from a plain node:http handler', async () => {
    handle = await initTelemetry({ service: 'metrics-http', exporters: { spans: new InMemorySpanExporter() } });
    const server = createServer((req, res) => {
      if (req.url === '/metrics') return metricsHandler()(req, res);
      res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, { headers: { accept: OM } });
      expect(res.status).toBe(200);
      expect(parseOpenMetrics(await res.text()).map((f) => f.name)).toContain('nodejs_eventloop_delay_max_seconds');
    } finally {
      server.close();
    }
  });
});
