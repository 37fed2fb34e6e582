/**
 * The embedded metric index names series as Prometheus would hold them: for metrics made by
 * the OpenTelemetry SDK, the series it indexes from OTLP are the series telemetry-core's own
 * `/metrics` exposition (`serializeMetrics`) writes for the same collection — names with unit
 * suffixes and `_total`, `_bucket{le}`, `_count`, `_sum`, attribute names made label names —
 * plus `job` from `service.name`, as a scrape adds it. Exponential histograms become classic
 * buckets at a fixed resolution.
 */
import { ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { serializeMetrics } from '@stellaops/telemetry-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPONENTIAL_SCALE, metricRows } from '../../src/segments/metric-rows.js';
import { MetricReader as IndexReader } from '../../src/segments/metric-reader.js';
import type { MetricsRequest } from '../../src/segments/signal-records.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let t: ReceiverService;
beforeAll(async () => {
  t = await startReceiver();
});
afterAll(async () => t?.stop());

/** `name{a="b",...}` → name and labels, for every sample line of a text exposition. */
function exposedSeries(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('target_info')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? /.exec(line)!;
    const labels = m[2] ? [...m[2].slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!.replace(/\\(.)/g, '$1')]) : [];
    out.push(`${m[1]}${JSON.stringify(Object.fromEntries(labels.sort()))}`);
  }
  return out.sort();
}

describe('metric naming', () => {
  it("indexes the series telemetry-core's exposition writes for the same SDK metrics", async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'naming-check' }), readers: [reader] });
    const meter = provider.getMeter('naming');
    meter.createCounter('app.sent', { unit: 'By' }).add(512, { 'peer.service': 'store' });
    meter.createCounter('jobs_total').add(3, { 'job.kind': 'scan' });
    meter.createUpDownCounter('app.inflight').add(4, { route: '/a' });
    meter.createHistogram('app.latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 0.5, 2.5] } }).record(0.3, { 'http.route': '/orders', 'http.response.status_code': 200 });
    meter.createHistogram('app.size', { unit: 'ms', valueType: ValueType.INT, advice: { explicitBucketBoundaries: [10] } }).record(12);
    meter.createObservableGauge('app.load', { unit: '1' }).addCallback((r) => r.observe(0.25, { cpu: '0' }));
    const { resourceMetrics } = await reader.collect();
    const exposition = serializeMetrics(resourceMetrics, { format: 'prometheus' });

    const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${t.ports.http}/v1/metrics`, headers: { authorization: `Bearer ${await t.token('acme', ['stella:telemetry:write#tenant/acme'])}` } });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(resourceMetrics, resolve));
    expect(result.code, result.error?.message).toBe(0);
    await exporter.shutdown();
    await provider.shutdown();

    const index = new IndexReader(t.service.store, t.telemetry);
    const indexed: string[] = [];
    const expected = exposedSeries(exposition);
    for (const name of new Set(expected.map((s) => s.slice(0, s.indexOf('{'))))) {
      for (const row of await index.series('acme', { name, limit: 100 })) {
        expect(row.labels['job']).toBe('naming-check');
        const { job: _job, ...labels } = row.labels;
        indexed.push(`${row.name}${JSON.stringify(Object.fromEntries(Object.entries(labels).sort()))}`);
      }
    }
    expect(indexed.sort()).toEqual(expected);
    expect(expected).toContain('app_sent_bytes_total{"peer_service":"store"}');
    expect(expected).toContain('app_latency_seconds_bucket{"http_response_status_code":"200","http_route":"/orders","le":"0.5"}');
    expect(expected).toContain('app_load_ratio{"cpu":"0"}');
  });

  it('indexes an exponential histogram as cumulative classic buckets, negative and zero buckets first', () => {
    const scale = 3;
    const request = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'rpc.duration',
                  unit: 'ms',
                  exponentialHistogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        attributes: [],
                        timeUnixNano: '1700000000000000000',
                        count: 15,
                        sum: 100,
                        scale,
                        zeroCount: 2,
                        zeroThreshold: 0,
                        // Scale 3 buckets 8..11 cover (2^1, 2^1.5]; at scale 2 they are buckets 4 and 5.
                        positive: { offset: 8, bucketCounts: [1, 2, 3, 4] },
                        negative: { offset: 0, bucketCounts: [3] },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    } as unknown as MetricsRequest;
    const rows = metricRows(request, 0);
    expect(EXPONENTIAL_SCALE).toBe(2);
    expect(rows.map((r) => [r.name, JSON.parse(r.labels).le ?? null, r.value])).toEqual([
      ['rpc_duration_milliseconds_bucket', String(-1), 3],
      ['rpc_duration_milliseconds_bucket', '0', 5],
      ['rpc_duration_milliseconds_bucket', String(2 ** (5 / 4)), 8],
      ['rpc_duration_milliseconds_bucket', String(2 ** (6 / 4)), 15],
      ['rpc_duration_milliseconds_bucket', '+Inf', 15],
      ['rpc_duration_milliseconds_count', null, 15],
      ['rpc_duration_milliseconds_sum', null, 100],
    ]);
    expect(rows.every((r) => r.family === 'rpc_duration_milliseconds' && r.family_type === 'histogram' && r.ts_ms === 1_700_000_000_000)).toBe(true);
  });
});
