import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, fastifyTelemetry, initTelemetry, type Logger, type TelemetryHandle } from '../../src/index.js';
import { decodeLogs, decodeMetricNames, decodeTraces, type DecodedLog, type DecodedSpan } from './otlp-protobuf.js';

/** A small OTLP/HTTP receiver that decodes protobuf export requests. */
class Receiver {
  spans: DecodedSpan[] = [];
  logs: DecodedLog[] = [];
  metricNames = new Set<string>();
  contentTypes = new Set<string>();
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.contentTypes.add(String(req.headers['content-type']));
        if (req.url === '/v1/traces') this.spans.push(...decodeTraces(body));
        else if (req.url === '/v1/logs') this.logs.push(...decodeLogs(body));
        else if (req.url === '/v1/metrics') for (const n of decodeMetricNames(body)) this.metricNames.add(n);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
}

const QUEUE = 128;
let receiver: Receiver;
let handle: TelemetryHandle;
let app: FastifyInstance;
let base: string;
let logger: Logger;
let spillDir: string;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  spillDir = mkdtempSync(join(tmpdir(), 'stella-spill-'));
  handle = await initTelemetry({
    service: 'otlp-e2e',
    version: '1.2.3',
    endpoint: `http://127.0.0.1:${receiver.port}`,
    sampling: { ratio: 1 },
    batch: {
      traces: { scheduledDelayMillis: 10, maxQueueSize: QUEUE, maxExportBatchSize: 32 },
      logs: { scheduledDelayMillis: 10, maxQueueSize: QUEUE, maxExportBatchSize: 32 },
    },
    exportTimeoutMillis: 500,
    backoff: { initialMs: 10, maxMs: 50 },
    logs: { spillDir, spillMaxFileBytes: 8 * 1024, exportLevel: 'info' },
    metrics: { exportIntervalMillis: 60_000 },
  });
  logger = createLogger({ service: 'otlp-e2e', destination: new Writable({ write(_c, _e, cb) { cb(); } }) });
  app = Fastify();
  await app.register(fastifyTelemetry, { service: 'otlp-e2e' });
  app.post('/work', async (req) => {
    const body = req.body as { id: number; fail?: boolean };
    logger.info({ details: { id: body.id } }, 'work done');
    if (body.fail) logger.error({ details: { id: body.id } }, `outage-error-${body.id}`);
    return { id: body.id, items: Array.from({ length: 5 }, (_, i) => i * body.id) };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
  await handle.shutdown({ timeoutMs: 2000 });
  await receiver.stop();
  rmSync(spillDir, { recursive: true, force: true });
});

async function post(id: number, fail = false): Promise<number> {
  const res = await fetch(`${base}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, fail }) });
  await res.arrayBuffer();
  return res.status;
}

/** Bounded polling: flush, then check; gives up after `tries`. */
async function eventually(check: () => boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    await handle.forceFlush();
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached within the polling bound');
}

describe('OTLP/HTTP export and backpressure', () => {
  it('delivers protobuf traces, logs and metrics to a real OTLP/HTTP endpoint', async () => {
    for (let i = 0; i < 10; i++) expect(await post(i, i === 3)).toBe(200);
    await eventually(() => receiver.spans.filter((s) => s.name === 'api.work').length >= 10 && receiver.logs.length >= 11);
    expect(receiver.contentTypes).toContain('application/x-protobuf');
    const span = receiver.spans.find((s) => s.name === 'api.work')!;
    expect(span.resource).toMatchObject({ 'service.name': 'otlp-e2e', 'service.version': '1.2.3' });
    expect(span.attributes).toMatchObject({ 'http.route': '/work', 'http.response.status_code': 200 });
    const error = receiver.logs.find((l) => l.body === 'outage-error-3')!;
    expect(error.severityNumber).toBe(17);
    expect(error.attributes['log.record.uid']).toMatch(/^[0-9a-f]{32}$/);
    expect(receiver.spans.some((s) => s.traceId === error.traceId)).toBe(true);
    await handle.meterProvider.forceFlush();
    expect(receiver.metricNames).toContain('http.server.request.duration');
  });

  it('keeps serving while the endpoint is down, bounds its queues, spills error logs and re-sends them exactly once', async () => {
    await receiver.stop();
    const statusCodes: number[] = [];
    let maxDepth = 0;
    const total = 600;
    for (let batch = 0; batch < total / 20; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, (_, j) => {
        const id = 1000 + batch * 20 + j;
        return post(id, id % 10 === 0);
      }));
      statusCodes.push(...results);
      const s = handle.stats();
      maxDepth = Math.max(maxDepth, s.queueDepth.traces, s.queueDepth.logs);
    }
    expect(statusCodes).toHaveLength(total);
    expect(statusCodes.every((c) => c === 200)).toBe(true);
    await handle.forceFlush();

    const during = handle.stats();
    // Memory stays bounded: queues never exceed their cap; the rest is dropped and counted.
    expect(maxDepth).toBeLessThanOrEqual(QUEUE);
    expect(during.exportFailures.traces).toBeGreaterThan(0);
    expect(during.exportFailures.logs).toBeGreaterThan(0);
    const droppedTraces = ['queue_full', 'export_failed', 'endpoint_down'].reduce((n, r) => n + (during.dropped[`traces|${r}`] ?? 0), 0);
    expect(droppedTraces).toBeGreaterThan(0);
    // Every error line of the outage went to the spill (60 of them), none was dropped.
    expect(during.spill.written).toBe(60);
    expect(during.dropped['logs|spill_full']).toBe(0);
    expect(readdirSync(spillDir).length).toBeGreaterThan(0);
    expect(during.spill.pendingBytes).toBeGreaterThan(0);
    expect(receiver.logs.some((l) => String(l.body).startsWith('outage-error-1'))).toBe(false);

    // The endpoint comes back on the same port: spilled error logs are re-sent, once.
    await receiver.start(receiver.port);
    const expected = Array.from({ length: 60 }, (_, i) => `outage-error-${1000 + i * 10}`);
    await eventually(() => {
      logger.info('probe');
      const bodies = new Set(receiver.logs.map((l) => String(l.body)));
      return expected.every((b) => bodies.has(b)) && handle.stats().spill.pendingBytes === 0;
    });
    // A few more flushes: nothing gets delivered twice.
    for (let i = 0; i < 5; i++) await handle.forceFlush();
    const counts = new Map<string, number>();
    for (const l of receiver.logs) counts.set(String(l.body), (counts.get(String(l.body)) ?? 0) + 1);
    for (const b of expected) expect(counts.get(b)).toBe(1);
    const resent = receiver.logs.filter((l) => l.attributes['stella.spill.resent'] === true);
    expect(resent).toHaveLength(60);
    expect(new Set(resent.map((l) => l.attributes['log.record.uid'])).size).toBe(60);
    // The trace context of a spilled record survives the round trip.
    expect(resent.every((l) => /^[0-9a-f]{32}$/.test(l.traceId ?? ''))).toBe(true);
    const after = handle.stats();
    expect(after.spill.resent).toBe(60);
    expect(readdirSync(spillDir)).toEqual([]);
    // Traffic after recovery is exported again.
    const before = receiver.spans.length;
    expect(await post(5000)).toBe(200);
    await eventually(() => receiver.spans.length > before);
  });
});
