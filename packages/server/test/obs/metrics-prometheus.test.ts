/**
 * One query interface, two backends (OBS-2): the same samples are written once as OpenMetrics
 * with timestamps — backfilled into a real Prometheus with `promtool tsdb create-blocks-from
 * openmetrics` — and sent over OTLP to a service on embedded defaults; a second service asks
 * that Prometheus (`STELLA_PROMETHEUS_URL`). `GET /obs/metrics` must give both the same
 * answers: the same series with the same labels, and the same points.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { sendOtlp, sequence, toOpenMetrics, type MetricFixture } from './metric-fixture.js';
import { requireBinaries, startPrometheus, type RunningProcess } from './prometheus-harness.js';

const MINUTE = 60_000;
const available = requireBinaries('prometheus', 'promtool');
const end = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
// Every 15 s at :07, :22, :37, :52 for two hours: no sample on a step boundary.
const times = Array.from({ length: 480 }, (_, i) => end - 120 * MINUTE + 7_000 + i * 15_000);

function running(start: number, next: () => number): number[] {
  let v = start;
  return times.map(() => (v += next()));
}

function fixtureFor(tenant: string, seed: number): MetricFixture {
  const rnd = sequence(seed);
  const int = (max: number) => () => Math.floor(rnd() * max);
  const bounds = [0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const histogram = (attrs: Record<string, string>) => {
    const counts = bounds.map(() => 0).concat(0);
    let sum = 0;
    const buckets: number[][] = [];
    const sums: number[] = [];
    for (let i = 0; i < times.length; i++) {
      counts.forEach((_, b) => (counts[b]! += Math.floor(rnd() * (8 - b))));
      sum += rnd() * 10;
      buckets.push([...counts]);
      sums.push(Number(sum.toFixed(6)));
    }
    return { attrs, buckets, sums };
  };
  const cart = running(100, int(20));
  // /cart restarts at sample 300 (a counter reset).
  const restarted = cart.map((v, i) => (i < 300 ? v : v - cart[299]! + int(3)()));
  return {
    service: 'api',
    times,
    families: [
      {
        kind: 'counter',
        otel: { name: 'app.requests', unit: '{request}' },
        prom: 'app_requests',
        series: [
          { attrs: { 'stella.tenant_id': tenant, 'http.route': '/orders' }, values: running(1000, int(50)) },
          { attrs: { 'stella.tenant_id': tenant, 'http.route': '/cart' }, values: restarted },
        ],
      },
      {
        kind: 'gauge',
        otel: { name: 'app.queue.depth', unit: '' },
        prom: 'app_queue_depth',
        series: [
          { attrs: { 'stella.tenant_id': tenant, queue: 'jobs' }, values: times.map(() => Math.round(rnd() * 1000) / 10) },
          { attrs: { 'stella.tenant_id': tenant, queue: 'mail' }, values: times.map(() => Math.floor(rnd() * 40)) },
        ],
      },
      {
        kind: 'histogram',
        otel: { name: 'app.request.duration', unit: 's' },
        prom: 'app_request_duration_seconds',
        bounds,
        series: [histogram({ 'stella.tenant_id': tenant, 'http.route': '/orders' }), histogram({ 'stella.tenant_id': tenant, 'http.route': '/cart' })],
      },
    ],
  };
}

const acme = fixtureFor('acme', 7);
const globex = fixtureFor('globex', 11);
const omText = (() => {
  // One file holding both tenants' samples: families stay contiguous.
  const a = toOpenMetrics(acme).replace(/# EOF\n$/, '').split(/(?=^# TYPE )/m);
  const g = toOpenMetrics(globex).replace(/# EOF\n$/, '').split(/(?=^# TYPE )/m);
  return `${a.map((block, i) => block + g[i]!.replace(/^# TYPE .*\n/, '')).join('')}# EOF\n`;
})();

let prometheus: RunningProcess | undefined;
let embedded: ReceiverService;
let viaPrometheus: ReceiverService;

beforeAll(async () => {
  if (!available) return;
  [prometheus, embedded] = await Promise.all([startPrometheus({ openMetrics: omText }), startReceiver()]);
  viaPrometheus = await startReceiver({ STELLA_PROMETHEUS_URL: prometheus.url });
  await sendOtlp(acme, `http://127.0.0.1:${embedded.ports.http}`, await embedded.token('acme', ['stella:telemetry:write#tenant/acme']));
  await sendOtlp(globex, `http://127.0.0.1:${embedded.ports.http}`, await embedded.token('globex', ['stella:telemetry:write#tenant/globex']));
}, 300_000);

afterAll(async () => {
  await Promise.all([embedded?.stop(), viaPrometheus?.stop()]);
  await prometheus?.stop();
});

interface Answer {
  type: string | null;
  source: string;
  value: string;
  series: { labels: Record<string, string>; points: [number, number][] }[];
}

async function ask(t: ReceiverService, query: string): Promise<Answer> {
  const res = await t.service.app.inject({ method: 'GET', url: `/obs/metrics?${query}`, headers: { authorization: `Bearer ${await t.token('acme', ['stella:obs:read#tenant/acme'])}` } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Answer;
}

const window = `from=${new Date(end - 90 * MINUTE).toISOString()}&to=${new Date(end).toISOString()}`;

describe.skipIf(!available)('the embedded store and Prometheus answer GET /obs/metrics alike', () => {
  it.each([
    ['a counter rate', `name=app_requests_total&${window}&step=60`],
    ['a counter by its family name', `name=app_requests&${window}&step=60`],
    ['a counter rate over 5 minutes', `name=app_requests_total&${window}&step=300`],
    ['a counter with a regex matcher', `name=app_requests_total&${window}&step=60&match=${encodeURIComponent('{http_route=~"/c.*"}')}`],
    ['a gauge', `name=app_queue_depth&${window}&step=60`],
    ['a gauge every 15 s', `name=app_queue_depth&${window}&step=15&match=${encodeURIComponent('{queue!="mail"}')}`],
    ['a histogram p95', `name=app_request_duration_seconds&${window}&step=60&quantile=0.95`],
    ['a histogram p50 over 2 minutes', `name=app_request_duration_seconds&${window}&step=120&quantile=0.5`],
    ['a histogram p99 of one route', `name=app_request_duration_seconds&${window}&step=60&quantile=0.99&match=${encodeURIComponent('{http_route="/cart"}')}`],
    ['a histogram observation rate', `name=app_request_duration_seconds&${window}&step=60`],
    ['one bucket series', `name=app_request_duration_seconds_bucket&${window}&step=60&match=${encodeURIComponent('{le="0.5"}')}`],
    ['a histogram sum', `name=app_request_duration_seconds_sum&${window}&step=60`],
    ['a metric neither has', `name=app_nothing_total&${window}&step=60`],
  ])('%s', async (_what, query) => {
    const [e, p] = await Promise.all([ask(embedded, query), ask(viaPrometheus, query)]);
    expect([e.source, p.source]).toEqual(['embedded', 'prometheus']);
    expect(e.type).toBe(p.type);
    expect(e.value).toBe(p.value);
    expect(e.series.map((s) => s.labels)).toEqual(p.series.map((s) => s.labels));
    if (query.includes('nothing')) expect(e.series).toEqual([]);
    else expect(e.series.length).toBeGreaterThan(0);
    e.series.forEach((s, i) => {
      const other = p.series[i]!;
      expect(s.points.map(([t]) => t)).toEqual(other.points.map(([t]) => t));
      expect(s.points.length).toBeGreaterThan(0);
      s.points.forEach(([t, v], j) => {
        const w = other.points[j]![1];
        expect(Math.abs(v - w), `${JSON.stringify(s.labels)} at ${new Date(t * 1000).toISOString()}: embedded ${v}, Prometheus ${w}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
      });
    });
  });

  it("shows neither backend's answer another tenant's series", async () => {
    for (const t of [embedded, viaPrometheus]) {
      const answer = await ask(t, `name=app_requests_total&${window}&step=60`);
      expect(answer.series.every((s) => s.labels['stella_tenant_id'] === 'acme')).toBe(true);
    }
  });
});
