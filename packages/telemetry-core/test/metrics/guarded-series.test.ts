import { AggregationTemporality, DataPointType, InMemoryMetricExporter, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, type TelemetryHandle } from '../../src/index.js';
import { parseOpenMetrics } from './openmetrics-parser.js';

let handle: TelemetryHandle | undefined;
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
});

async function start(temporality: AggregationTemporality, maxSeriesPerMetric?: number): Promise<InMemoryMetricExporter> {
  const exporter = new InMemoryMetricExporter(temporality);
  handle = await createTelemetry({
    service: 'series-test',
    exporters: { metrics: exporter },
    metrics: { exportIntervalMillis: 3_600_000, ...(maxSeriesPerMetric ? { cardinality: { maxSeriesPerMetric } } : {}) },
  });
  return exporter;
}

function exported(exporter: InMemoryMetricExporter, name: string): MetricData[] {
  return exporter
    .getMetrics()
    .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
    .filter((m) => m.descriptor.name === name);
}

describe('guarded counters and histograms', () => {
  it('push deltas to an exporter that asks for them: each export holds only what was recorded since the last', async () => {
    const exporter = await start(AggregationTemporality.DELTA);
    const h = handle!.metrics.histogram('work.duration', 'Work.', [0.1, 1]);
    const c = handle!.metrics.counter('work.done', 'Work done.');
    h.record(0.05, { kind: 'a' });
    h.record(0.5, { kind: 'a' });
    c.add(2, { kind: 'a' });
    await handle!.forceFlush();
    h.record(5, { kind: 'a' });
    h.record(0.2, { kind: 'b' });
    await handle!.forceFlush();
    await handle!.forceFlush(); // nothing new: no data points

    const hs = exported(exporter, 'work.duration') as HistogramMetricData[];
    expect(hs).toHaveLength(2);
    expect(hs.every((m) => m.aggregationTemporality === AggregationTemporality.DELTA && m.dataPointType === DataPointType.HISTOGRAM)).toBe(true);
    const first = hs[0]!.dataPoints;
    expect(first).toHaveLength(1);
    expect(first[0]!.attributes).toEqual({ kind: 'a' });
    expect(first[0]!.value).toMatchObject({ count: 2, sum: 0.55, buckets: { boundaries: [0.1, 1], counts: [1, 1, 0] } });
    const second = Object.fromEntries(hs[1]!.dataPoints.map((p) => [p.attributes['kind'], p.value]));
    expect(second['a']).toMatchObject({ count: 1, sum: 5, buckets: { counts: [0, 0, 1] } });
    expect(second['b']).toMatchObject({ count: 1, sum: 0.2, buckets: { counts: [0, 1, 0] } });
    // Each delta interval starts where the previous export ended.
    const [p1, p2] = [first[0]!, hs[1]!.dataPoints.find((p) => p.attributes['kind'] === 'a')!];
    expect(p2.startTime).toEqual(p1.endTime);

    const cs = exported(exporter, 'work.done') as SumMetricData[];
    expect(cs).toHaveLength(1);
    expect(cs[0]!.isMonotonic).toBe(true);
    expect(cs[0]!.dataPoints[0]!.value).toBe(2);
  });

  it('push cumulative series to a cumulative exporter and to /metrics alike', async () => {
    const exporter = await start(AggregationTemporality.CUMULATIVE);
    const h = handle!.metrics.histogram('work.duration', 'Work.', [0.1, 1]);
    h.record(0.05, { kind: 'a' });
    await handle!.forceFlush();
    h.record(0.5, { kind: 'a' });
    await handle!.forceFlush();
    const hs = exported(exporter, 'work.duration') as HistogramMetricData[];
    expect(hs.map((m) => m.dataPoints[0]!.value.count)).toEqual([1, 2]);
    expect(hs[1]!.dataPoints[0]!.value).toMatchObject({ min: 0.05, max: 0.5 });
    expect(hs[0]!.dataPoints[0]!.startTime).toEqual(hs[1]!.dataPoints[0]!.startTime);

    const text = (await handle!.renderMetrics('application/openmetrics-text')).body;
    const family = parseOpenMetrics(text).find((f) => f.name === 'work_duration_seconds');
    const count = family?.samples.find((s) => s.name === 'work_duration_seconds_count' && s.labels['kind'] === 'a');
    expect(count?.value).toBe(2);
  });

  it('judges a label set once, and the guard still counts every folded recording', async () => {
    await start(AggregationTemporality.CUMULATIVE, 3);
    const c = handle!.metrics.counter('tenant.work', 'Work per tenant.');
    // Two different secrets in one label: one scrubbed series, not two.
    c.add(1, { token: `ghp_${'a'.repeat(36)}` });
    c.add(1, { token: `ghp_${'b'.repeat(36)}` });
    // The cap (3 series, one of them the overflow series) folds the rest, every time.
    for (let round = 0; round < 2; round++) for (let k = 0; k < 4; k++) c.add(1, { kind: `k${k}` });
    const text = (await handle!.renderMetrics('application/openmetrics-text')).body;
    const samples = parseOpenMetrics(text).find((f) => f.name === 'tenant_work')?.samples.filter((s) => s.name === 'tenant_work_total') ?? [];
    const byLabels = Object.fromEntries(samples.map((s) => [JSON.stringify(s.labels), s.value]));
    expect(Object.keys(byLabels)).toHaveLength(3);
    expect(Object.entries(byLabels).find(([l]) => l.includes('token'))?.[1]).toBe(2);
    expect(byLabels[JSON.stringify({ kind: 'k0' })]).toBe(2);
    expect(byLabels[JSON.stringify({ 'otel_metric_overflow': 'true' })]).toBe(6);
    expect(text).not.toContain('aaaaaaaa');
    expect(text).not.toContain('bbbbbbbb');
    const overflow = parseOpenMetrics(text).find((f) => f.name === 'telemetry_metric_overflow')?.samples.find((s) => s.labels['metric'] === 'tenant.work');
    expect(overflow?.value).toBe(6);
  });
});
