/**
 * `GET /obs/metrics` on embedded defaults (OBS-2): OTLP metrics sent to the receiver are
 * indexed from the segments and answered as series — a counter's rate per second over each
 * step, a gauge's value, a histogram's quantile or observation rate, a delta sum's rate —
 * tenant-scoped, with guardrails that answer 400 with stable codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { sendOtlp, type MetricFixture } from './metric-fixture.js';

const TENANT = 'acme';
const MINUTE = 60_000;
let t: ReceiverService;
let read: string;
let write: string;
/** A whole minute some time ago; samples every 15 s at :07, :22, :37, :52 for the 30 minutes before it. */
const end = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
const times = Array.from({ length: 120 }, (_, i) => end - 30 * MINUTE + 7_000 + i * 15_000);

const fixture: MetricFixture = {
  service: 'api',
  times,
  families: [
    // 30 requests per sample on /orders (2/s); /cart restarts at sample 100.
    {
      kind: 'counter',
      otel: { name: 'app.requests', unit: '{request}' },
      prom: 'app_requests',
      series: [
        { attrs: { 'http.route': '/orders' }, values: times.map((_, i) => 1000 + 30 * i) },
        { attrs: { 'http.route': '/cart' }, values: times.map((_, i) => (i < 100 ? 500 + 15 * i : 15 * (i - 99))) },
      ],
    },
    { kind: 'gauge', otel: { name: 'app.queue.depth', unit: '' }, prom: 'app_queue_depth', series: [{ attrs: { queue: 'jobs' }, values: times.map((_, i) => i % 7) }] },
    // 10 observations per sample: 6 under 0.1 s, 3 under 0.5 s, 1 under 1 s.
    {
      kind: 'histogram',
      otel: { name: 'app.request.duration', unit: 's' },
      prom: 'app_request_duration_seconds',
      bounds: [0.1, 0.5, 1],
      series: [{ attrs: { 'http.route': '/orders' }, buckets: times.map((_, i) => [6 * (i + 1), 3 * (i + 1), 1 * (i + 1), 0]), sums: times.map((_, i) => 2.5 * (i + 1)) }],
    },
  ],
};

const get = async (url: string, token = read) => {
  const res = await t.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() };
};
const window = `from=${new Date(end - 20 * MINUTE).toISOString()}&to=${new Date(end).toISOString()}`;

beforeAll(async () => {
  t = await startReceiver({}, ['--obs-max-window-hours', '6', '--obs-metrics-max-points', '1000']);
  read = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
  write = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  await sendOtlp(fixture, `http://127.0.0.1:${t.ports.http}`, write);
  // A delta counter: 30 per sample, each point the increase since the previous one.
  const delta = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'worker' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'worker.jobs',
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: times.map((ts) => ({ startTimeUnixNano: String(BigInt(ts - 15_000) * 1_000_000n), timeUnixNano: String(BigInt(ts) * 1_000_000n), asInt: '30' })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${t.ports.http}/v1/metrics`, { method: 'POST', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' }, body: JSON.stringify(delta) });
  expect(res.status).toBe(200);
});
afterAll(async () => t?.stop());

describe('GET /obs/metrics on the embedded store', () => {
  it('answers a counter as its rate per second over each step, resets included', async () => {
    const { status, body } = await get(`/obs/metrics?name=app_requests_total&${window}&step=60`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'app_requests_total', type: 'counter', source: 'embedded', value: 'rate_per_second', step_seconds: 60, quantile: null });
    expect(body.series.map((s: { labels: unknown }) => s.labels)).toEqual([
      { http_route: '/cart', job: 'api' },
      { http_route: '/orders', job: 'api' },
    ]);
    const orders = body.series[1].points as [number, number][];
    expect(orders).toHaveLength(21);
    expect(orders[0]![0]).toBe((end - 20 * MINUTE) / 1000);
    // Four samples 15 s apart in each minute, 7 s and 8 s from its ends: 90 over 45 s, extrapolated to 60 s.
    for (const [, v] of orders) expect(v).toBeCloseTo(2, 9);
    // /cart restarted at sample 100 (end − 5 min + 7 s): the minute holding the restart still reads 1/s.
    for (const [, v] of body.series[0].points as [number, number][]) expect(v).toBeCloseTo(1, 9);
    // The family name answers the same.
    expect((await get(`/obs/metrics?name=app_requests&${window}&step=60`)).body.series).toEqual(body.series);
  });

  it('filters with label matchers', async () => {
    const { body } = await get(`/obs/metrics?name=app_requests_total&${window}&step=60&match=${encodeURIComponent('{http_route=~"/o.*"}')}`);
    expect(body.series.map((s: { labels: { http_route: string } }) => s.labels.http_route)).toEqual(['/orders']);
    const bare = await get(`/obs/metrics?name=app_requests_total&${window}&step=60&match=${encodeURIComponent('http_route="/cart"')}`);
    expect(bare.body.series).toHaveLength(1);
  });

  it('answers a gauge with its last value at each step', async () => {
    const { body } = await get(`/obs/metrics?name=app_queue_depth&${window}&step=60`);
    expect(body).toMatchObject({ type: 'gauge', value: 'value' });
    const points = body.series[0].points as [number, number][];
    // The last sample at or before t is the one 8 s earlier (index (t − first sample) / 15 s).
    for (const [ts, v] of points) expect(v).toBe(Math.floor((ts * 1000 - times[0]!) / 15_000) % 7);
  });

  it('answers a histogram quantile from its buckets, and its observation rate without one', async () => {
    const q95 = await get(`/obs/metrics?name=app_request_duration_seconds&${window}&step=60&quantile=0.95`);
    expect(q95.body).toMatchObject({ type: 'histogram', value: 'quantile', quantile: 0.95 });
    expect(q95.body.series[0].labels).toEqual({ http_route: '/orders', job: 'api' });
    // Rank 9.5 of 10 falls in (0.5, 1] holding 1 of 10: 0.5 + 0.5 × 0.5.
    for (const [, v] of q95.body.series[0].points as [number, number][]) expect(v).toBeCloseTo(0.75, 9);
    const q50 = await get(`/obs/metrics?name=app_request_duration_seconds&${window}&step=60&quantile=0.5`);
    for (const [, v] of q50.body.series[0].points as [number, number][]) expect(v).toBeCloseTo(0.1 * (5 / 6), 9);
    const rate = await get(`/obs/metrics?name=app_request_duration_seconds&${window}&step=60`);
    expect(rate.body.value).toBe('observations_per_second');
    for (const [, v] of rate.body.series[0].points as [number, number][]) expect(v).toBeCloseTo(10 / 15, 9);
    // A bucket series is a counter of its own.
    const bucket = await get(`/obs/metrics?name=app_request_duration_seconds_bucket&${window}&step=60&match=${encodeURIComponent('{le="0.1"}')}`);
    expect(bucket.body.type).toBe('counter');
    for (const [, v] of bucket.body.series[0].points as [number, number][]) expect(v).toBeCloseTo(6 / 15, 9);
  });

  it('adds up delta points', async () => {
    const { body } = await get(`/obs/metrics?name=worker_jobs_total&${window}&step=60`);
    expect(body.series[0].labels).toEqual({ job: 'worker' });
    for (const [, v] of body.series[0].points as [number, number][]) expect(v).toBeCloseTo(2, 9);
  });

  it("reads only the caller's tenant", async () => {
    const other = await t.token('globex', ['stella:obs:read#tenant/globex']);
    const { status, body } = await get(`/obs/metrics?name=app_requests_total&${window}&step=60`, other);
    expect(status).toBe(200);
    expect(body).toMatchObject({ type: null, series: [] });
  });

  it('refuses what it cannot answer with a 400 naming the rule', async () => {
    const code = async (query: string): Promise<[number, string, unknown]> => {
      const { status, body } = await get(`/obs/metrics?${query}`);
      return [status, body.error_code, body.allowed];
    };
    expect(await code(`name=${encodeURIComponent('app requests')}`)).toEqual([400, 'obs.metric_name_invalid', undefined]);
    expect((await code(`name=app_requests_total&match=${encodeURIComponent('{http_route=')}`))[1]).toBe('obs.match_invalid');
    expect((await code(`name=app_requests_total&match=${encodeURIComponent('other_total{a="b"}')}`))[1]).toBe('obs.match_invalid');
    expect((await code(`name=app_requests_total&match=${encodeURIComponent('{__name__="x"}')}`))[1]).toBe('obs.match_invalid');
    expect((await code(`name=app_requests_total&step=1.5s`))[1]).toBe('obs.step_invalid');
    expect((await code(`name=app_requests_total&step=0`))[1]).toBe('obs.step_invalid');
    expect((await code(`name=app_requests_total&step=2h`))[1]).toBe('obs.step_invalid');
    // One hour at 1 s is 3601 points, over the 1000 allowed: the smallest step is named.
    expect(await code('name=app_requests_total&step=1')).toEqual([400, 'obs.too_many_points', { max_points: 1000, min_step_seconds: 4 }]);
    expect((await code(`name=app_requests_total&${window}&quantile=0.9`))[1]).toBe('obs.quantile_invalid');
    expect((await code(`name=app_request_duration_seconds&quantile=1.5`))[1]).toBe('obs.quantile_invalid');
    expect((await code(`name=app_requests_total&from=${new Date(end - 7 * 3_600_000).toISOString()}&to=${new Date(end).toISOString()}`))[1]).toBe('obs.window_too_wide');
    expect((await code('name=app_requests_total&from=yesterday'))[1]).toBe('obs.window_invalid');
    expect((await code('name=app_requests_total&tenant=globex'))[0]).toBe(400);
  });

  it('caps the series of one answer', async () => {
    const capped = await startReceiver({}, ['--obs-metrics-max-series', '1']);
    try {
      await sendOtlp(fixture, `http://127.0.0.1:${capped.ports.http}`, await capped.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]));
      const res = await capped.service.app.inject({
        method: 'GET',
        url: `/obs/metrics?name=app_requests_total&${window}&step=60`,
        headers: { authorization: `Bearer ${await capped.token(TENANT, [`stella:obs:read#tenant/${TENANT}`])}` },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error_code: 'obs.too_many_series', field: 'query.match', allowed: { max_series: 1 } });
    } finally {
      await capped.stop();
    }
  });

  it('keeps the former route aggregates at /obs/routes', async () => {
    const { status, body } = await get('/obs/routes');
    expect(status).toBe(200);
    expect(body.series).toEqual([]);
  });
});
