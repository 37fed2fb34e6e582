/**
 * Samples for the shipped SBOM SLOs (deploy/slo): sbom-service's journey histogram and HTTP
 * server metrics, one sample a minute, as telemetry-core records them. Until `burstMinutes`
 * before the end, 3% of SBOM ingests miss the 5 s objective (a steady 0.6× burn of its 5%
 * budget); from then on 80% do (a 16× burn: the 1h/5m page fires, the 6h/30m page does not).
 * HTTP requests stay fast, with a few 5xx.
 */
import type { MetricFixture } from '../obs/metric-fixture.js';

/** telemetry-core's duration buckets (seconds). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60, 90, 120, 300];

export interface SloFixtureOptions {
  tenant: string;
  /** First and last sample times (ms); one sample a minute between them. */
  startMs: number;
  endMs: number;
  /** Minutes before endMs from which most ingests are slow or fail. */
  burstMinutes: number;
}

/** Per-minute counts per bucket for `n` observations: `fast` land in the 1 s bucket, the rest in the 10 s one. */
function observe(counts: number[], fast: number, slow: number): void {
  counts[DURATION_BUCKETS.indexOf(1)]! += fast;
  counts[DURATION_BUCKETS.indexOf(10)]! += slow;
}

export function sloFixture(o: SloFixtureOptions): MetricFixture {
  const times: number[] = [];
  for (let t = o.startMs; t <= o.endMs; t += 60_000) times.push(t);
  const burstFrom = o.endMs - o.burstMinutes * 60_000;
  const buckets = () => DURATION_BUCKETS.map(() => 0).concat(0);
  const ok = { counts: buckets(), sum: 0, rows: [] as number[][], sums: [] as number[] };
  const failed = { counts: buckets(), sum: 0, rows: [] as number[][], sums: [] as number[] };
  const http = { counts: buckets(), sum: 0, rows: [] as number[][], sums: [] as number[] };
  const errors: number[] = [];
  let errorCount = 0;
  times.forEach((t, i) => {
    if (i > 0) {
      const burst = t > burstFrom;
      // 100 ingests a minute: steady 97 fast successes, 2 slow successes, 1 failure; in the burst 20, 40 and 40.
      observe(ok.counts, burst ? 20 : 97, burst ? 40 : 2);
      ok.sum += burst ? 20 * 0.8 + 40 * 8 : 97 * 0.8 + 2 * 8;
      observe(failed.counts, burst ? 40 : 1, 0);
      failed.sum += burst ? 40 * 0.5 : 0.5;
      observe(http.counts, 600, 0);
      http.sum += 600 * 0.3;
      errorCount += i % 4 === 0 ? 1 : 0;
    }
    for (const s of [ok, failed, http]) {
      s.rows.push([...s.counts]);
      s.sums.push(Number(s.sum.toFixed(3)));
    }
    errors.push(errorCount);
  });
  const tenant = { 'stella.tenant_id': o.tenant };
  return {
    service: 'sbom-service',
    times,
    families: [
      {
        kind: 'histogram',
        otel: { name: 'stella.journey.duration', unit: 's' },
        prom: 'stella_journey_duration_seconds',
        bounds: DURATION_BUCKETS,
        series: [
          { attrs: { ...tenant, 'stella.journey': 'sbom_ingest', outcome: 'success' }, buckets: ok.rows, sums: ok.sums },
          { attrs: { ...tenant, 'stella.journey': 'sbom_ingest', outcome: 'failure' }, buckets: failed.rows, sums: failed.sums },
        ],
      },
      {
        kind: 'histogram',
        otel: { name: 'http.server.request.duration', unit: 's' },
        prom: 'http_server_request_duration_seconds',
        bounds: DURATION_BUCKETS,
        series: [{ attrs: { ...tenant, 'http.route': '/sboms', 'http.request.method': 'POST' }, buckets: http.rows, sums: http.sums }],
      },
      {
        kind: 'counter',
        otel: { name: 'http.server.request.errors', unit: '' },
        prom: 'http_server_request_errors',
        series: [{ attrs: { ...tenant, 'http.route': '/sboms', 'http.request.method': 'POST' }, values: errors }],
      },
    ],
  };
}
