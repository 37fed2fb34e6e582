/**
 * `GET /obs/tenants`: operators see which tenants send the most telemetry — counts of indexed
 * spans (and errors), logs and metric points per tenant over a window, from telemetry ingested
 * over OTLP for two tenants. Only a platform-wide scope grants it; a token with the scope for
 * a tenant gets a 403 saying that the platform-wide scope is needed, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

let t: ReceiverService;
const now = Date.now();

const nanos = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });

/** `count` server spans of one trace each, `errors` of them failed, starting `agoMs` before now. */
function spans(service: string, count: number, errors: number, agoMs: number, seed: number) {
  return {
    resourceSpans: [
      {
        resource: resource(service),
        scopeSpans: [
          {
            spans: Array.from({ length: count }, (_, i) => ({
              traceId: (seed * 1000 + i + 1).toString(16).padStart(32, '0'),
              spanId: (seed * 1000 + i + 1).toString(16).padStart(16, '0'),
              name: 'GET /orders',
              kind: 2,
              startTimeUnixNano: nanos(now - agoMs + i),
              endTimeUnixNano: nanos(now - agoMs + i + 5),
              status: { code: i < errors ? 2 : 1 },
            })),
          },
        ],
      },
    ],
  };
}

function logs(service: string, count: number, agoMs: number) {
  return {
    resourceLogs: [
      {
        resource: resource(service),
        scopeLogs: [{ logRecords: Array.from({ length: count }, (_, i) => ({ timeUnixNano: nanos(now - agoMs + i), severityNumber: 9, body: { stringValue: `line ${i}` } })) }],
      },
    ],
  };
}

function gauge(service: string, count: number, agoMs: number) {
  return {
    resourceMetrics: [
      {
        resource: resource(service),
        scopeMetrics: [{ metrics: [{ name: 'queue_depth', unit: '1', gauge: { dataPoints: Array.from({ length: count }, (_, i) => ({ timeUnixNano: nanos(now - agoMs + i * 1000), asDouble: i })) } }] }],
      },
    ],
  };
}

async function send(tenant: string, signal: 'traces' | 'logs' | 'metrics', body: unknown): Promise<void> {
  const token = await t.token(tenant, [`stella:telemetry:write#tenant/${tenant}`]);
  const res = await fetch(`http://127.0.0.1:${t.ports.http}/v1/${signal}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
}

const get = (url: string, token: string, headers: Record<string, string> = {}) => t.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
const platformToken = (scopes: string[]) => t.service.devAuthority!.mint({ scopes, subject: 'operator-1' });

beforeAll(async () => {
  // The service's own telemetry would be a third tenant (stella-ops); it is left out here.
  t = await startReceiver({ STELLA_SELF_TELEMETRY: 'false' });
  // noisy: 30 spans (4 failed) ten minutes ago, 50 log records and 20 metric points five, and
  // 7 spans two hours ago; quiet: 3 spans (none failed) and 2 log records half a minute ago.
  await send('noisy', 'traces', spans('api', 30, 4, 600_000, 1));
  await send('noisy', 'traces', spans('api', 7, 7, 2 * 3_600_000, 2));
  await send('noisy', 'logs', logs('api', 50, 300_000));
  await send('noisy', 'metrics', gauge('api', 20, 300_000));
  await send('quiet', 'traces', spans('worker', 3, 0, 30_000, 3));
  await send('quiet', 'logs', logs('worker', 2, 30_000));
}, 60_000);
afterAll(async () => t?.stop());

describe('GET /obs/tenants', () => {
  it('counts each tenant’s indexed spans, errors, logs and metric points in the window, most first', async () => {
    const res = await get('/obs/tenants', await platformToken(['stella:obs:read']));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ window: { from: string; to: string }; tenants: unknown[] }>();
    expect(Date.parse(body.window.to) - Date.parse(body.window.from)).toBe(60 * 60_000);
    expect(body.tenants).toEqual([
      { tenant: 'noisy', spans: 30, logs: 50, metric_points: 20, error_spans: 4, total: 100 },
      { tenant: 'quiet', spans: 3, logs: 2, metric_points: 0, error_spans: 0, total: 5 },
    ]);
  });

  it('takes the window in minutes (1-1440), and leaves out tenants with nothing in it', async () => {
    const token = await platformToken(['stella:obs:read']);
    const wide = (await get('/obs/tenants?window=180', token)).json<{ tenants: { tenant: string; spans: number; error_spans: number; total: number }[] }>();
    expect(wide.tenants[0]).toMatchObject({ tenant: 'noisy', spans: 37, error_spans: 11, total: 107 });
    // Three minutes back: quiet's telemetry (half a minute old) only.
    const narrow = (await get('/obs/tenants?window=3', token)).json<{ tenants: { tenant: string }[] }>();
    expect(narrow.tenants.map((x) => x.tenant)).toEqual(['quiet']);
    for (const bad of ['0', '1441', 'abc', '1.5']) {
      const res = await get(`/obs/tenants?window=${bad}`, token);
      expect({ bad, status: res.statusCode, code: res.json<{ error_code: string }>().error_code, field: res.json<{ field: string }>().field }).toEqual({ bad, status: 400, code: 'request.invalid', field: 'query.window' });
    }
  });

  it('is granted by either platform-wide scope, and selects no tenant (X-Stella-Tenant is not read)', async () => {
    const admin = await platformToken(['stella:telemetry:admin']);
    const res = await get('/obs/tenants', admin, { 'x-stella-tenant': 'quiet' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ tenants: { tenant: string }[] }>().tenants.map((x) => x.tenant)).toEqual(['noisy', 'quiet']);
  });

  it('refuses a token that has the scope only for tenants: 403 naming the platform-wide scope, and nothing about tenants', async () => {
    const tenantOnly = await t.token('noisy', ['stella:obs:read#tenant/noisy', 'stella:telemetry:admin#tenant/noisy']);
    const res = await get('/obs/tenants', tenantOnly);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error_code: 'auth.scope_denied',
      message: 'this route covers every tenant, so it needs the platform-wide scope stella:obs:read (or stella:telemetry:admin), without #tenant/<id>; the token grants it only for particular tenants',
      required_scope: 'stella:obs:read',
    });
  });

  it('refuses a token without either scope, and one without a token', async () => {
    const other = await platformToken(['stella:timeline:read']);
    const res = await get('/obs/tenants', other);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error_code: 'auth.scope_denied',
      message: 'the token lacks the platform-wide scope stella:obs:read (or stella:telemetry:admin); this route covers every tenant, so the scope must be granted without #tenant/<id>',
      required_scope: 'stella:obs:read',
    });
    const anonymous = await t.service.app.inject({ method: 'GET', url: '/obs/tenants' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error_code: 'auth.token_missing' });
  });
});
