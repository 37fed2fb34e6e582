/**
 * The metric index is derived from the segments like the span and log index (STO-5): a large
 * metrics request prepared in a worker thread gives the rows it gives on the event loop (rows in
 * chunks included), and a reindex rebuilds the same series from the stored records.
 */
import { createLogger } from '@stellaops/telemetry-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREPARE_LIMITS, prepareRequest } from '../../src/otlp/otlp-prepare.js';
import { OtlpScrubber } from '../../src/otlp/otlp-scrub.js';
import { PreparePool } from '../../src/otlp/prepare-pool.js';
import { MetricReader } from '../../src/segments/metric-reader.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { sendOtlp, toOtlpRequests, type MetricFixture } from './metric-fixture.js';

const logger = createLogger({ service: 'metric-index-test', level: 'fatal' });
const times = Array.from({ length: 40 }, (_, i) => 1_700_000_000_000 + i * 15_000);
const fixture: MetricFixture = {
  service: 'api',
  times,
  families: [
    {
      kind: 'histogram',
      otel: { name: 'app.request.duration', unit: 's' },
      prom: 'app_request_duration_seconds',
      bounds: [0.1, 0.5, 1, 2.5, 5],
      // 30 routes × 40 points × 8 series each (6 buckets, count, sum): 9600 rows, more than one chunk.
      series: Array.from({ length: 30 }, (_, r) => ({ attrs: { 'http.route': `/r${r}` }, buckets: times.map((_, i) => [i, i, 2 * i, 0, r, 1]), sums: times.map((_, i) => i * 1.5) })),
    },
  ],
};

const pools: PreparePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('the metric index', () => {
  it('gets the same rows from a worker thread as from the event loop', async () => {
    const body = Buffer.from(JSON.stringify(toOtlpRequests(fixture, times.length)[0]));
    const inline = prepareRequest('acme', 'metrics', body, 'json', new OtlpScrubber(), 1_700_000_000_000);
    expect(inline.rows.metrics).toHaveLength(30 * 40 * 8);
    const pool = new PreparePool({ logger, size: 1 });
    pools.push(pool);
    const prepared = await pool.prepare(
      { tenant: 'acme', signal: 'metrics', format: 'json', body, receivedAtMs: 1_700_000_000_000, limits: DEFAULT_PREPARE_LIMITS, census: { maxItems: 1e9, maxValues: 1e9 } },
      () => undefined,
    );
    expect(prepared.rows).toEqual(inline.rows);
  });

  describe('on a running service', () => {
    let t: ReceiverService;
    beforeAll(async () => {
      t = await startReceiver();
    });
    afterAll(async () => t?.stop());

    it('rebuilds the same series and samples from the segments', async () => {
      await sendOtlp(fixture, `http://127.0.0.1:${t.ports.http}`, await t.token('acme', ['stella:telemetry:write#tenant/acme']));
      const reader = new MetricReader(t.service.store, t.telemetry);
      const read = async () => {
        const series = await reader.series('acme', { name: 'app_request_duration_seconds_bucket', limit: 1000 });
        const bands = await reader.bands('acme', series.map((s) => s.series_id), [times[0]! - 1, times[times.length - 1]!]);
        return { series, bands };
      };
      const before = await read();
      expect(before.series).toHaveLength(30 * 6);
      expect(before.bands.every((b) => b.n === 40)).toBe(true);
      await t.telemetry.index.reindex('acme');
      expect(await read()).toEqual(before);
    });
  });
});
