/**
 * The service's instruments keep tenant labels bounded: past the cardinality cap, further
 * tenants fold into the overflow series (counted in `telemetry_metric_overflow_total`) — for
 * counters and for the per-tenant incident-mode gauge alike — and nothing is lost from the totals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, type TelemetryHandle } from '@stellaops/telemetry-core';
import { ServiceMetrics } from '../../src/self/service-metrics.js';
import { parseSamples, type Sample } from './helpers.js';

let handle: TelemetryHandle | undefined;
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
});

async function bounded(maxSeriesPerMetric: number): Promise<{ metrics: ServiceMetrics; samples: () => Promise<Sample[]> }> {
  handle = await createTelemetry({ service: 'service-metrics-test', endpoint: '', metrics: { cardinality: { maxSeriesPerMetric } } });
  const h = handle;
  return { metrics: new ServiceMetrics(h, { selfTenant: 'stella-ops' }), samples: async () => parseSamples((await h.renderMetrics()).body) };
}

const tenants = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);

describe('service metrics with tenant labels', () => {
  it('fold tenants past the cap into the overflow series and keep the totals', async () => {
    const { metrics, samples } = await bounded(6);
    for (const tenant of tenants) metrics.receiverAccepted.add(5, { tenant, signal: 'traces' });
    const accepted = (await samples()).filter((s) => s.name === 'telemetry_receiver_accepted_total');
    // Three series of the service's own tenant from the start, two more tenants, one overflow series.
    expect(accepted).toHaveLength(6);
    expect(accepted.filter((s) => s.labels['tenant']?.startsWith('tenant-')).map((s) => s.labels['tenant'])).toEqual(['tenant-0', 'tenant-1']);
    expect(accepted.find((s) => s.labels['otel_metric_overflow'] === 'true')?.value).toBe(40);
    expect(accepted.reduce((n, s) => n + s.value, 0)).toBe(50);
    const overflow = (await samples()).find((s) => s.name === 'telemetry_metric_overflow_total' && s.labels['metric'] === 'telemetry_receiver_accepted');
    expect(overflow).toMatchObject({ labels: { reason: 'metric_limit' }, value: 8 });
  });

  it('report incident mode of tenants past the cap on the overflow series: on if any of them is on', async () => {
    const { metrics, samples } = await bounded(5);
    tenants.forEach((tenant, i) => metrics.incidentModes.set(tenant, i === 7));
    const gauge = (await samples()).filter((s) => s.name === 'telemetry_incident_mode');
    expect(gauge.filter((s) => s.labels['tenant'] === 'tenant-0').map((s) => [s.labels['state'], s.value])).toEqual([
      ['on', 0],
      ['off', 1],
    ]);
    expect(gauge.length).toBeLessThanOrEqual(6);
    const folded = gauge.filter((s) => s.labels['otel_metric_overflow'] === 'true');
    expect(Object.fromEntries(folded.map((s) => [s.labels['state'], s.value]))).toEqual({ on: 1, off: 1 });
  });
});
