/**
 * The service evaluates the shipped SLOs (SLO-2, SLO-3, INC-3) on embedded defaults: metrics
 * sent over OTLP are evaluated every interval; a page-level burn opens one breach — a
 * `stella.<tenant>.slo.breach` bus event, a `slo.breach.firing` timeline event, one signed
 * delivery to each webhook (Alertmanager JSON and CloudEvents) — and switches incident mode on
 * for the tenant and the SLO's service within an interval. Alertmanager's webhook acts the same
 * way for firing `SLOErrorBudgetBurn` page alerts, and resolves what it opened.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BusConsumer } from '@stellaops/telemetry-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SloRuntime } from '../../src/slo/slo-feature.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { sendOtlp } from '../obs/metric-fixture.js';
import { poll } from '../obs/prometheus-harness.js';
import { sloFixture } from './slo-fixture.js';

interface Delivery {
  path: string;
  contentType: string;
  signatureOk: boolean;
  body: Record<string, unknown>;
}

const secret = randomBytes(24).toString('hex');
const deliveries: Delivery[] = [];
let hooks: Server;
let t: ReceiverService;
const busMessages: Record<string, unknown>[] = [];
let consumer: BusConsumer;
const now = Date.now();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  hooks = createServer((req, res) => {
    void readBody(req).then((text) => {
      const expected = `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
      deliveries.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), signatureOk: req.headers['x-stella-signature'] === expected, body: JSON.parse(text) as Record<string, unknown> });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const port = (hooks.address() as AddressInfo).port;
  t = await startReceiver({
    STELLA_SLO_EVALUATION_INTERVAL_MS: '1000',
    STELLA_SLO_WEBHOOKS: `alertmanager:http://127.0.0.1:${port}/am,http://127.0.0.1:${port}/ce`,
    STELLA_SLO_WEBHOOK_SECRET: secret,
  });
  consumer = await t.service.bus.consume({
    durable: 'slo-breach-test',
    filterSubject: 'stella.*.slo.breach',
    handler: async (batch) => {
      for (const m of batch) busMessages.push({ subject: m.subject, ...(JSON.parse(Buffer.from(m.data).toString('utf8')) as Record<string, unknown>) });
    },
  });
}, 120_000);

afterAll(async () => {
  await consumer?.stop();
  await t?.stop();
  await new Promise((resolve) => hooks?.close(resolve));
});

const runtime = (): SloRuntime => t.service.features.get('slo') as SloRuntime;
const as = async (tenant: string, scopes: string[]) => t.token(tenant, scopes.map((s) => `${s}#tenant/${tenant}`));
async function get(url: string, tenant = 'acme') {
  const res = await t.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await as(tenant, ['stella:obs:read', 'stella:timeline:read', 'stella:incident:admin'])}` } });
  return { status: res.statusCode, body: res.json() };
}

describe('the SLO evaluator on embedded defaults', () => {
  it('switches incident mode on within an interval of a page-level burn, and acts once', async () => {
    // Eight hours of sbom-service metrics up to ten minutes from now; the 75 minutes up to now burn 16× the journey SLO's budget.
    const fixture = sloFixture({ tenant: 'acme', startMs: now - 8 * 3_600_000, endMs: now + 10 * 60_000, burstMinutes: 85 });
    await sendOtlp(fixture, `http://127.0.0.1:${t.ports.http}`, await as('acme', ['stella:telemetry:write']));
    const sent = Date.now();

    const modes = await poll(
      'incident mode for sbom-service',
      async () => {
        const { body } = await get('/telemetry/incidents/mode');
        return body.modes.some((m: { service: string }) => m.service === 'sbom-service') ? body : undefined;
      },
      30_000,
    );
    // The evaluation interval is one second; allow for one pass already under way and a loaded machine.
    expect(Date.now() - sent).toBeLessThan(20_000);
    expect(modes.incidents[0]).toMatchObject({ service: 'sbom-service', trigger: 'slo_burn', started_by: 'system:slo' });

    const { status, body } = await get('/obs/slo');
    expect(status).toBe(200);
    expect(body).toMatchObject({ tenant: 'acme', source: 'embedded', interval_seconds: 1 });
    const journey = body.slos.find((s: { name: string }) => s.name === 'sbom-ingest-latency');
    expect(journey).toMatchObject({ service: 'sbom-service', state: 'page', objective: { target: 0.95 }, period: '30d' });
    const [fast, slow] = journey.burn_rates;
    expect(fast).toMatchObject({ severity: 'page', long_window: '1h', short_window: '5m', burn_rate_threshold: 14.4, firing: true });
    expect(fast.long_burn_rate).toBeCloseTo(16, 6);
    expect(fast.short_burn_rate).toBeCloseTo(16, 6);
    expect(slow).toMatchObject({ long_window: '6h', firing: false });
    expect(journey.error_ratios['5m']).toBeCloseTo(0.8, 9);
    expect(journey.error_budget.remaining).toBeLessThan(1);
    expect(body.slos.find((s: { name: string }) => s.name === 'sbom-service-availability').state).toBe('ok');
    expect(body.slos.find((s: { name: string }) => s.name === 'conseiller-availability').state).toBe('no_data');
    expect(body.breaches).toEqual([expect.objectContaining({ slo: 'sbom-ingest-latency', long_window: '1h', source: 'evaluator', incident: 'on', resolved_at: null })]);

    // More passes find the breach open and do nothing again.
    await runtime().job.runOnce();
    await runtime().job.runOnce();
    await runtime().breaches.settled();
    const mine = deliveries.filter((d) => JSON.stringify(d.body).includes('sbom-ingest-latency'));
    expect(mine.map((d) => d.path).sort()).toEqual(['/am', '/ce']);
    expect(mine.every((d) => d.signatureOk)).toBe(true);
    const am = mine.find((d) => d.path === '/am')!;
    expect(am.contentType).toBe('application/json');
    expect(am.body).toMatchObject({ version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'SLOErrorBudgetBurn', slo: 'sbom-ingest-latency', severity: 'page', long_window: '1h', stella_tenant_id: 'acme' } }] });
    const ce = mine.find((d) => d.path === '/ce')!;
    expect(ce.contentType).toBe('application/cloudevents+json');
    expect(ce.body).toMatchObject({ specversion: '1.0', type: 'io.stellaops.slo.breach', subject: 'tenant/acme/slo/sbom-ingest-latency', data: { state: 'firing', incident: 'on' } });

    const published = await poll('the breach on the bus', async () => (busMessages.length > 0 ? busMessages : undefined), 10_000);
    expect(published).toEqual([expect.objectContaining({ subject: 'stella.acme.slo.breach', slo: 'sbom-ingest-latency', state: 'firing', long_window: '1h' })]);
    const timeline = await get('/timeline?kind=slo.breach.firing');
    expect(timeline.body.events).toHaveLength(1);
  }, 180_000);

  it('answers one SLO, or at an instant, and names what it refuses', async () => {
    const one = await get('/obs/slo?slo=sbom-service-latency');
    expect(one.body.slos.map((s: { name: string }) => s.name)).toEqual(['sbom-service-latency']);
    const at = new Date(now - 3 * 3_600_000).toISOString();
    const earlier = await get(`/obs/slo?slo=sbom-ingest-latency&at=${at}`);
    expect(earlier.body.evaluated_at).toBe(at);
    // Three hours ago the journeys burned 0.6× the budget.
    expect(earlier.body.slos[0].burn_rates[0].long_burn_rate).toBeCloseTo(0.6, 6);
    expect(earlier.body.slos[0].state).toBe('ok');
    const unknown = await get('/obs/slo?slo=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error_code: 'slo.not_found', field: 'query.slo' });
    expect(unknown.body.allowed.slos).toContain('sbom-ingest-latency');
    expect((await get('/obs/slo?at=yesterday')).body.error_code).toBe('obs.window_invalid');
    expect((await get(`/obs/slo?at=${new Date(Date.now() + 3_600_000).toISOString()}`)).body.error_code).toBe('obs.window_invalid');
  });
});

describe("Alertmanager's webhook", () => {
  const alert = (labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing') => ({
    status,
    labels: { alertname: 'SLOErrorBudgetBurn', severity: 'page', ...labels },
    annotations: { summary: 'burning', runbook_url: 'docs/runbooks/slo-error-budget-burn.md' },
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
    fingerprint: randomBytes(8).toString('hex'),
  });
  const post = async (alerts: unknown[], scopes = ['stella:incident:admin']) => {
    const res = await t.service.app.inject({
      method: 'POST',
      url: '/telemetry/alerts/alertmanager',
      headers: { authorization: `Bearer ${await as('globex', scopes)}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ version: '4', status: 'firing', receiver: 'stella', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am', alerts }),
    });
    return { status: res.statusCode, body: res.json() };
  };

  it('needs a token with stella:incident:admin', async () => {
    const denied = await post([alert({ slo: 'export-bundle-latency', service: 'export-center', long_window: '1h' })], ['stella:obs:read']);
    expect(denied).toMatchObject({ status: 403, body: { error_code: 'auth.scope_denied' } });
    const bad = await t.service.app.inject({ method: 'POST', url: '/telemetry/alerts/alertmanager', headers: { authorization: `Bearer ${await as('globex', ['stella:incident:admin'])}`, 'content-type': 'application/json' }, payload: '{}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error_code).toBe('request.invalid');
  });

  it('turns firing page alerts into breaches of the token tenant, once, and resolves them', async () => {
    const fire = alert({ slo: 'export-bundle-latency', service: 'export-center', long_window: '1h' });
    const first = await post([
      alert({ alertname: 'TelemetryTargetDown' }),
      alert({ slo: 'export-bundle-latency', service: 'export-center', long_window: '1d', severity: 'ticket' }),
      alert({ slo: 'export-bundle-latency', service: 'export-center', long_window: '1h', stella_tenant_id: 'acme' }),
      fire,
      alert({ slo: 'policy-evaluate-latency', service: 'policy-engine', long_window: '6h' }),
      alert({ slo: 'not-loaded', service: 'elsewhere', long_window: '1h' }),
    ]);
    expect(first.status).toBe(200);
    expect(first.body.alerts.map((a: { outcome: string }) => a.outcome)).toEqual(['ignored', 'ignored', 'ignored', 'opened', 'opened', 'opened']);
    const [, , , exportBreach, policyBreach, unknown] = first.body.alerts.map((a: { breach: Record<string, unknown> }) => a.breach);
    // The 1h page of a 30-day SLO burns at least 14.4×: incident mode; the 6h page (6×) stays below the threshold.
    expect(exportBreach).toMatchObject({ tenant: 'globex', source: 'alertmanager', burn_rate: 14.4, incident: 'on', short_window: '5m' });
    expect(policyBreach).toMatchObject({ burn_rate: 6, incident: 'below_threshold' });
    expect(unknown).toMatchObject({ incident: 'unknown_slo' });
    const modes = await get('/telemetry/incidents/mode', 'globex');
    expect(modes.body.modes.map((m: { service: string }) => m.service)).toEqual(['export-center']);

    expect((await post([fire])).body.alerts[0].outcome).toBe('already_open');
    const resolved = await post([{ ...fire, status: 'resolved', endsAt: new Date().toISOString() }]);
    expect(resolved.body.alerts[0]).toMatchObject({ outcome: 'resolved', breach: { slo: 'export-bundle-latency' } });
    expect((await post([{ ...fire, status: 'resolved' }])).body.alerts[0].outcome).toBe('not_open');

    await runtime().breaches.settled();
    const exportHooks = deliveries.filter((d) => JSON.stringify(d.body).includes('export-bundle-latency'));
    expect(exportHooks.map((d) => `${d.path} ${JSON.stringify(d.body).includes('"resolved"') ? 'resolved' : 'firing'}`).sort()).toEqual(['/am firing', '/am resolved', '/ce firing', '/ce resolved']);
    expect(exportHooks.every((d) => d.signatureOk)).toBe(true);
  });

  it('keeps to the incident cool-down after an operator ended the incident', async () => {
    const off = await t.service.app.inject({
      method: 'POST',
      url: '/telemetry/incidents/mode',
      headers: { authorization: `Bearer ${await as('globex', ['stella:incident:admin'])}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ state: 'off', service: 'export-center', reason: 'mitigated' }),
    });
    expect(off.statusCode).toBe(200);
    const again = await post([alert({ slo: 'export-bundle-latency', service: 'export-center', long_window: '1h' })]);
    expect(again.body.alerts[0]).toMatchObject({ outcome: 'opened', breach: { incident: 'cooldown' } });
  });
});
