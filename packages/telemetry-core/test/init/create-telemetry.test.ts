/**
 * `createTelemetry`: an instance its owner wires, touching nothing process-wide. Two of them in
 * one process keep their own spans, request metrics and log lines; the global tracer, meter
 * and metric helpers stay as they were; the in-process OTLP request exporters hand over real
 * OTLP/protobuf requests; and log lines written while exporting are not exported again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { context as otelContext, metrics as otelMetrics, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import {
  createLogger,
  createTelemetry,
  fastifyTelemetry,
  otlpRequestExporters,
  recordJourney,
  renderMetrics,
  type TelemetryHandle,
} from '../../src/index.js';
import { decodeLogs, decodeTraces } from '../export/otlp-protobuf.js';
import { parseOpenMetrics } from '../metrics/openmetrics-parser.js';

const OM = 'application/openmetrics-text; version=1.0.0';
const quiet = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

interface Instance {
  handle: TelemetryHandle;
  app: FastifyInstance;
  base: string;
  requests: { signal: string; body: Buffer }[];
}

const opened: Instance[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const i of opened.splice(0)) {
    await i.app.close();
    await i.handle.shutdown({ timeoutMs: 2000 });
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function instance(service: string): Promise<Instance> {
  const requests: Instance['requests'] = [];
  const exporters = otlpRequestExporters(async (signal, body) => {
    requests.push({ signal, body: Buffer.from(body) });
  });
  const spillDir = mkdtempSync(join(tmpdir(), 'stella-create-'));
  dirs.push(spillDir);
  const handle = await createTelemetry({
    service,
    exporters: { spans: exporters.spans, logs: exporters.logs },
    sampling: { ratio: 1 },
    batch: { traces: { scheduledDelayMillis: 60_000 }, logs: { scheduledDelayMillis: 60_000 } },
    logs: { spillDir, exportLevel: 'info' },
  });
  const logger = createLogger({ service, destination: quiet(), sinks: handle.logSink ? [handle.logSink] : [] });
  const app = Fastify();
  await app.register(fastifyTelemetry, { service, tracer: handle.tracer, observer: handle.observeRequest, ignoreRoutes: ['/metrics'] });
  app.get('/work/:id', async () => {
    logger.info({ action: 'work' }, `${service} working`);
    return { ok: true };
  });
  app.get('/metrics', async (request, reply) => {
    const r = await handle.renderMetrics(request.headers.accept);
    return reply.code(r.status).header('content-type', r.contentType).send(r.body);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const i = { handle, app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, requests };
  opened.push(i);
  return i;
}

function requestCount(text: string, route: string): number {
  const family = parseOpenMetrics(text).find((f) => f.name === 'http_server_request_duration_seconds');
  return family?.samples.filter((s) => s.name.endsWith('_count') && s.labels['http_route'] === route).reduce((a, s) => a + s.value, 0) ?? 0;
}

describe('createTelemetry', () => {
  it('keeps two instances in one process apart and leaves the process-wide telemetry alone', async () => {
    const globalTracer = trace.getTracerProvider();
    const globalMeter = otelMetrics.getMeterProvider();
    const a = await instance('svc-a');
    const b = await instance('svc-b');

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect((await fetch(`${a.base}/work/1`, { headers: { traceparent } })).status).toBe(200);
    await fetch(`${a.base}/work/2`);
    await fetch(`${b.base}/work/3`);

    // Request metrics: each instance counts its own app's requests only, with exemplars.
    const textA = await (await fetch(`${a.base}/metrics`, { headers: { accept: OM } })).text();
    const textB = await (await fetch(`${b.base}/metrics`, { headers: { accept: OM } })).text();
    expect(requestCount(textA, '/work/:id')).toBe(2);
    expect(requestCount(textB, '/work/:id')).toBe(1);
    expect(textA).toContain('trace_id="0af7651916cd43dd8448eb211c80319c"');
    expect(textB).not.toContain('0af7651916cd43dd8448eb211c80319c');

    // Spans and logs: each instance's own, as OTLP/protobuf requests.
    await a.handle.forceFlush();
    await b.handle.forceFlush();
    const spansOf = (i: Instance) => i.requests.filter((r) => r.signal === 'traces').flatMap((r) => decodeTraces(r.body));
    const logsOf = (i: Instance) => i.requests.filter((r) => r.signal === 'logs').flatMap((r) => decodeLogs(r.body));
    expect(spansOf(a).map((s) => s.name)).toEqual(['api.work.{id}', 'api.work.{id}']);
    expect(spansOf(a)[0]).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', resource: { 'service.name': 'svc-a' } });
    expect(spansOf(b).map((s) => s.resource['service.name'])).toEqual(['svc-b']);
    expect(logsOf(a).map((l) => l.body)).toEqual(['svc-a working', 'svc-a working']);
    expect(logsOf(a)[0]!.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(logsOf(b).map((l) => l.body)).toEqual(['svc-b working']);

    // Nothing process-wide changed.
    expect(trace.getTracerProvider()).toBe(globalTracer);
    expect(otelMetrics.getMeterProvider()).toBe(globalMeter);
    expect(recordJourney('policy_evaluate', 1)).toBe(false);
    expect((await renderMetrics()).status).toBe(503);
  });

  it('does not export log lines written while exporting', async () => {
    const a = await instance('svc-quiet');
    const logger = createLogger({ service: 'svc-quiet', destination: quiet(), sinks: [a.handle.logSink!] });
    otelContext.with(suppressTracing(otelContext.active()), () => logger.error('written by an exporter'));
    logger.error('written by the service');
    await a.handle.forceFlush();
    const bodies = a.requests.filter((r) => r.signal === 'logs').flatMap((r) => decodeLogs(r.body)).map((l) => l.body);
    expect(bodies).toEqual(['written by the service']);
  });

  it('counts a refused hand-over as a failed export', async () => {
    const exporters = otlpRequestExporters(async () => {
      throw new Error('store refused');
    });
    const handle = await createTelemetry({ service: 'svc-refused', exporters: { spans: exporters.spans }, sampling: { ratio: 1 } });
    try {
      handle.tracer.startSpan('refused.work').end();
      await handle.forceFlush();
      expect(handle.stats().exportFailures.traces).toBe(1);
    } finally {
      await handle.shutdown();
    }
  });
});
