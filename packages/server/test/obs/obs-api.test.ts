import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const TENANT = 'acme';
let t: ReceiverService;
let read: string;
const now = Date.now();

function nanos(ms: number): string {
  return (BigInt(ms) * 1_000_000n).toString();
}

beforeAll(async () => {
  t = await startReceiver({}, ['--obs-max-window-hours', '6', '--obs-max-results', '50', '--trace-deep-link', 'https://tempo.example/trace/{trace_id}']);
  read = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
  const write = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  // 20 server spans on one route, durations 10..200 ms, two of them errors; one old span of another service.
  const spans = Array.from({ length: 20 }, (_, i) => ({
    traceId: (i + 1).toString(16).padStart(32, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: 'GET /orders',
    kind: 2,
    startTimeUnixNano: nanos(now - 60_000 + i),
    endTimeUnixNano: nanos(now - 60_000 + i + (i + 1) * 10),
    attributes: [{ key: 'http.route', value: { stringValue: '/orders' } }],
    status: { code: i < 2 ? 2 : 1 },
  }));
  const body = {
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeSpans: [{ spans }] },
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'batch' } }] },
        scopeSpans: [{ spans: [{ traceId: 'ff'.repeat(16), spanId: 'ff'.repeat(8), name: 'nightly', kind: 5, startTimeUnixNano: nanos(now - 3 * 3_600_000), endTimeUnixNano: nanos(now - 3 * 3_600_000 + 5) }] }],
      },
    ],
  };
  const logs = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: 60 }, (_, i) => ({
              timeUnixNano: nanos(now - 120_000 + i * 1000),
              severityNumber: i % 10 === 0 ? 17 : 9,
              severityText: i % 10 === 0 ? 'ERROR' : 'INFO',
              body: { stringValue: i % 10 === 0 ? `order ${i} failed: 50% off_coupon invalid` : `order ${i} ok` },
            })),
          },
        ],
      },
    ],
  };
  for (const [signal, payload] of [['traces', body], ['logs', logs]] as const) {
    const res = await fetch(`http://127.0.0.1:${t.ports.http}/v1/${signal}`, { method: 'POST', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => t?.stop());

const get = async (url: string, token = read) => {
  const res = await t.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() };
};

describe('observability read APIs', () => {
  it('GET /obs/routes: rate, error ratio and p95 per service and route from ingress spans', async () => {
    const { status, body } = await get('/obs/routes');
    expect(status).toBe(200);
    expect(body.series).toHaveLength(1);
    const s = body.series[0];
    expect(s).toMatchObject({ service: 'api', route: '/orders', requests: 20, errors: 2, error_ratio: 0.1 });
    // percentile_cont over 10, 20, ..., 200 ms: 0.95 → 190.5 ms.
    expect(s.p95_ms).toBeCloseTo(190.5, 1);
    expect(s.request_rate_per_s).toBeCloseTo(20 / 3600, 6);
  });

  it('GET /obs/health: degraded on errors, down when not seen in the window', async () => {
    const { body } = await get('/obs/health');
    const byService = Object.fromEntries(body.services.map((s: { service: string }) => [s.service, s]));
    expect(byService['api']).toMatchObject({ status: 'degraded', requests: 20, error_ratio: 0.1 });
    expect(byService['batch']).toMatchObject({ status: 'down', requests: 0 });
  });

  it('GET /obs/logs: filters, newest first, with guardrails that explain themselves', async () => {
    const errors = await get('/obs/logs?severity=error&q=50%25%20off_coupon');
    expect(errors.status).toBe(200);
    expect(errors.body.logs).toHaveLength(6);
    expect(errors.body.logs.every((l: { severity_text: string }) => l.severity_text === 'ERROR')).toBe(true);
    expect(errors.body.logs[0].body).toBe('order 50 failed: 50% off_coupon invalid');
    // "%" and "_" in q are literal, not wildcards.
    expect((await get('/obs/logs?q=order_5')).body.logs).toHaveLength(0);

    const capped = await get('/obs/logs?limit=50');
    expect(capped.body).toMatchObject({ truncated: true, limits: { max_window_hours: 6, max_results: 50 } });
    const tooMany = await get('/obs/logs?limit=51');
    expect(tooMany).toMatchObject({ status: 400, body: { error_code: 'obs.limit_too_large', field: 'query.limit', allowed: { max: 50 } } });
    const wide = await get(`/obs/logs?from=${new Date(now - 7 * 3_600_000).toISOString()}&to=${new Date(now).toISOString()}`);
    expect(wide.status).toBe(400);
    expect(wide.body.error_code).toBe('obs.window_too_wide');
    expect(wide.body.message).toMatch(/at most 6 hours/);
    expect((await get('/obs/logs?from=yesterday')).body.error_code).toBe('obs.window_invalid');
    expect((await get('/obs/logs?tenant=globex')).status).toBe(400);
  });

  it('GET /obs/trace/:id: deep link, 404 and 400, and no reads across tenants', async () => {
    const id = (1).toString(16).padStart(32, '0');
    const found = await get(`/obs/trace/${id}`);
    expect(found.body.deep_link).toBe(`https://tempo.example/trace/${id}`);
    expect((await get(`/obs/trace/${'ab'.repeat(16)}`)).body.error_code).toBe('obs.trace_not_found');
    expect((await get('/obs/trace/not-hex')).body.error_code).toBe('obs.trace_id_invalid');
    const other = await t.token('globex', ['stella:obs:read#tenant/globex']);
    expect((await get(`/obs/trace/${id}`, other)).status).toBe(404);
    expect((await get('/obs/routes', other)).body.series).toEqual([]);
  });

  it('GET /obs/trace/:id: start times are the exact milliseconds of the spans, where a float division would be 1 ms early', async () => {
    // A recent millisecond whose nanoseconds, as a JS number divided by 1e6, fall just below it.
    let ms = now - 30_000;
    while (Math.floor(Number(BigInt(ms) * 1_000_000n) / 1e6) === ms) ms -= 1;
    const traceId = 'e1'.repeat(16);
    const payload = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
          scopeSpans: [{ spans: [{ traceId, spanId: 'e1'.repeat(8), name: 'GET /exact', kind: 2, startTimeUnixNano: nanos(ms), endTimeUnixNano: nanos(ms + 7) }] }],
        },
      ],
    };
    const write = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
    const res = await fetch(`http://127.0.0.1:${t.ports.http}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await get(`/obs/trace/${traceId}`)).status, { timeout: 20_000, interval: 100 }).toBe(200);
    const trace = (await get(`/obs/trace/${traceId}`)).body as { start_time: string; duration_ms: number; spans: { start_time: string }[] };
    expect(trace.start_time).toBe(new Date(ms).toISOString());
    expect(trace.spans[0]!.start_time).toBe(new Date(ms).toISOString());
    expect(trace.duration_ms).toBeCloseTo(7, 6);
  });
});
