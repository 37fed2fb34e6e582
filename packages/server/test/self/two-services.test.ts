/**
 * Two services built in one process (as tests build them) observe themselves apart: each one's
 * `/metrics` counts its own requests, incident modes and OTLP items only, each stores its own
 * spans, and neither registers anything process-wide (tracer, meter, metric helpers), so
 * closing one leaves the other observing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics, trace } from '@opentelemetry/api';
import { recordJourney } from '@stellaops/telemetry-core';
import { startTestService, type TestService } from '../helpers/service.js';
import { sampleValue, scrape } from './helpers.js';

const TENANT = 'acme';
const TRACE_ID = '5b8efff798038103d269b633813fc60c';

let a: TestService;
let b: TestService;
const meterProviderBefore = metrics.getMeterProvider();

beforeAll(async () => {
  [a, b] = await Promise.all([startTestService({}, ['--self-sampling-ratio', '1']), startTestService({}, ['--self-sampling-ratio', '1'])]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function requests(t: TestService, route: string): Promise<number> {
  return (await scrape(t.service)).samples.filter((s) => s.name === 'http_server_request_duration_seconds_count' && s.labels['http_route'] === route).reduce((n, s) => n + s.value, 0);
}

async function storedSpans(t: TestService, traceId: string): Promise<number> {
  await t.service.self.flush();
  await t.service.parts.telemetry.index.flush();
  const { rows } = await t.service.store.tenantTransaction('stella-ops', (tx) =>
    tx.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry_spans WHERE tenant_id = $1 AND trace_id = $2', ['stella-ops', traceId]),
  );
  return Number(rows[0]!.n);
}

describe('two services in one process', () => {
  it('count their own requests and incident modes only', async () => {
    const admin = await a.token(TENANT, [`stella:incident:admin#tenant/${TENANT}`, `stella:timeline:read#tenant/${TENANT}`]);
    for (let i = 0; i < 3; i++) expect((await a.service.app.inject({ url: '/timeline', headers: { authorization: `Bearer ${admin}` } })).statusCode).toBe(200);
    const on = await a.service.app.inject({ method: 'POST', url: '/telemetry/incidents/mode', headers: { authorization: `Bearer ${admin}` }, payload: { tenant: TENANT, state: 'on', ttl: '1h', reason: 'two services' } });
    expect(on.statusCode, on.body).toBe(200);

    expect(await requests(a, '/timeline')).toBe(3);
    expect(await requests(b, '/timeline')).toBe(0);
    expect(sampleValue((await scrape(a.service)).samples, 'telemetry_incident_mode', { tenant: TENANT, state: 'on' })).toBe(1);
    expect(sampleValue((await scrape(b.service)).samples, 'telemetry_incident_mode', { tenant: TENANT, state: 'on' })).toBeUndefined();
  });

  it('store their own spans', async () => {
    const token = await b.token(TENANT, [`stella:timeline:read#tenant/${TENANT}`]);
    expect((await b.service.app.inject({ url: '/timeline', headers: { authorization: `Bearer ${token}`, traceparent: `00-${TRACE_ID}-1111111111111111-01` } })).statusCode).toBe(200);
    expect(await storedSpans(b, TRACE_ID)).toBe(1);
    expect(await storedSpans(a, TRACE_ID)).toBe(0);
  });

  it('register nothing process-wide, so one closing leaves the other observing', async () => {
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    expect(metrics.getMeterProvider()).toBe(meterProviderBefore);
    expect(recordJourney('policy_evaluate', 1)).toBe(false);

    await a.stop();
    const token = await b.token(TENANT, [`stella:timeline:read#tenant/${TENANT}`]);
    expect((await b.service.app.inject({ url: '/timeline', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect(await requests(b, '/timeline')).toBe(2);
  });
});
