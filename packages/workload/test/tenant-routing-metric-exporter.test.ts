/**
 * The workload's metric push: one OTLP/protobuf request per tenant, each holding only that
 * tenant's data points (the rest under the platform tenant), journeys and request metrics as
 * delta so every observation is counted, and a request refused for now sent again.
 * A local HTTP server stands in for the receiver; the requests are decoded with the
 * service's own OTLP decoder.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelemetry, type TelemetryHandle } from '@stellaops/telemetry-core';
import { tenantRoutingMetricExporter } from '../src/telemetry/tenant-routing-metric-exporter.js';
import { decodeRequest, type Metric, type MetricsRequest } from '../../server/src/segments/signal-records.js';

interface Received {
  tenant: string | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  body: MetricsRequest;
}

const received: Received[] = [];
/** Answers to give before 200, in order (e.g. a 503 with Retry-After). */
const refusals: { status: number; retryAfter?: string }[] = [];
let server: Server;
let endpoint: string;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const refusal = refusals.shift();
      if (refusal) {
        res.writeHead(refusal.status, refusal.retryAfter !== undefined ? { 'retry-after': refusal.retryAfter } : {});
        res.end();
        return;
      }
      received.push({
        tenant: req.headers['x-stella-tenant'] as string | undefined,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: decodeRequest('metrics', new Uint8Array(body)),
      });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function metrics(r: Received): Metric[] {
  return r.body.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
}

function tenantsOf(m: Metric): string[] {
  const points = m.histogram?.dataPoints ?? m.sum?.dataPoints ?? m.gauge?.dataPoints ?? [];
  return points.map((p) => p.attributes.find((a) => a.key === 'stella.tenant_id')?.value?.stringValue ?? '(none)');
}

async function telemetry(): Promise<TelemetryHandle> {
  return createTelemetry({
    service: 'sbom-service',
    exporters: { metrics: tenantRoutingMetricExporter({ endpoint, token: 'svc-token', platformTenant: 'platform', retryForMs: 5000 }) },
    // Exports happen on forceFlush only.
    metrics: { exportIntervalMillis: 3_600_000 },
  });
}

describe('tenant-routing metric exporter', () => {
  it('sends each tenant its own data points, the rest to the platform tenant, journeys as delta', async () => {
    received.length = 0;
    const t = await telemetry();
    try {
      const journey = (tenant: string, outcome: string): void => t.metrics.journeyDuration.record(0.2, { 'stella.tenant_id': tenant, 'stella.journey': 'sbom_ingest', outcome });
      journey('acme', 'success');
      journey('globex', 'failure');
      journey('globex', 'failure');
      await t.forceFlush();

      expect(new Set(received.map((r) => r.tenant))).toEqual(new Set(['acme', 'globex', 'platform']));
      for (const r of received) {
        expect(r.authorization).toBe('Bearer svc-token');
        expect(r.contentType).toBe('application/x-protobuf');
        expect(r.body.resourceMetrics[0]!.resource?.attributes.find((a) => a.key === 'service.name')?.value?.stringValue).toBe('sbom-service');
      }
      const byTenant = (tenant: string): Received => received.find((r) => r.tenant === tenant)!;
      for (const tenant of ['acme', 'globex']) {
        const journeys = metrics(byTenant(tenant)).filter((m) => m.name === 'stella.journey.duration');
        expect(journeys).toHaveLength(1);
        expect(tenantsOf(journeys[0]!).every((x) => x === tenant)).toBe(true);
        // Delta (OTLP 1): the receiver adds the points up, so the first observations count too.
        expect(journeys[0]!.histogram!.aggregationTemporality).toBe(1);
      }
      const globex = metrics(byTenant('globex')).find((m) => m.name === 'stella.journey.duration')!;
      expect(Number(globex.histogram!.dataPoints[0]!.count)).toBe(2);
      // The platform tenant gets the process's own metrics, none of a tenant's; observable counters stay cumulative (OTLP 2).
      const platform = metrics(byTenant('platform'));
      expect(platform.flatMap(tenantsOf).every((x) => x === '(none)')).toBe(true);
      const cpu = platform.find((m) => m.name === 'process.cpu.time');
      expect(cpu?.sum?.aggregationTemporality).toBe(2);

      // The next push holds only what happened since: one more acme journey.
      received.length = 0;
      journey('acme', 'success');
      await t.forceFlush();
      const again = metrics(received.find((r) => r.tenant === 'acme')!).find((m) => m.name === 'stella.journey.duration')!;
      expect(Number(again.histogram!.dataPoints[0]!.count)).toBe(1);
      expect(received.some((r) => r.tenant === 'globex' && metrics(r).some((m) => m.name === 'stella.journey.duration'))).toBe(false);
    } finally {
      await t.shutdown();
    }
  });

  it('sends a request the receiver refuses for now again, so no delta is lost', async () => {
    received.length = 0;
    const t = await telemetry();
    try {
      t.metrics.journeyDuration.record(0.2, { 'stella.tenant_id': 'acme', 'stella.journey': 'sbom_ingest', outcome: 'success' });
      // The first request (whichever tenant's) is refused with 503 and Retry-After: 0, the next one with 429.
      refusals.push({ status: 503, retryAfter: '0' }, { status: 429 });
      await t.forceFlush();
      expect(refusals).toHaveLength(0);
      expect(t.stats().exportFailures.metrics).toBe(0);
      const acme = received.find((r) => r.tenant === 'acme');
      expect(acme && metrics(acme).some((m) => m.name === 'stella.journey.duration')).toBe(true);
    } finally {
      await t.shutdown();
    }
  });
});
