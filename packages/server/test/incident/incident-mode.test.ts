import { createHmac, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { verifyBundleStream } from '@stellaops/forensics';
import { BusIncidentModeSource, HttpIncidentModeSource, initTelemetry, withContext, withSpan, type TelemetryHandle } from '@stellaops/telemetry-core';
import type { CaptureRuntime } from '../../src/capture/capture-feature.js';
import type { IncidentRuntime } from '../../src/incident/incident-feature.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { scrape } from '../self/helpers.js';

interface Delivery {
  body: string;
  signature: string | undefined;
  attempt: string | undefined;
  contentType: string | undefined;
}

const TENANT = 'acme';
const SECRET = randomBytes(24).toString('hex');
let now = Date.now();
let t: ReceiverService;
let hook: Server;
const deliveries: Delivery[] = [];
const attemptsById = new Map<string, number>();
let telemetry: TelemetryHandle;
let spans: InMemorySpanExporter;
let admin: string;

beforeAll(async () => {
  // Webhook receiver: refuses the first attempt of every event, so each one is delivered by a retry.
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const id = (JSON.parse(body) as { id: string }).id;
      const n = (attemptsById.get(id) ?? 0) + 1;
      attemptsById.set(id, n);
      if (n === 1) {
        res.writeHead(503).end();
        return;
      }
      deliveries.push({ body, signature: req.headers['x-stella-signature'] as string, attempt: req.headers['x-stella-delivery-attempt'] as string, contentType: req.headers['content-type'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));

  t = await startReceiver(
    {},
    [
      '--incident-webhook-url',
      `http://127.0.0.1:${(hook.address() as AddressInfo).port}/notify`,
      '--incident-webhook-secret',
      SECRET,
      '--incident-webhook-retry-base-ms',
      '5',
      '--subject-prefix',
      'inctest',
    ],
    () => now,
  );
  admin = await t.token(TENANT, [`stella:incident:admin#tenant/${TENANT}`, `stella:obs:read#tenant/${TENANT}`, `stella:timeline:read#tenant/${TENANT}`]);

  // A telemetry-core process: 10% head sampling, incident modes pushed over the service's bus.
  spans = new InMemorySpanExporter();
  telemetry = await initTelemetry({
    service: 'workload',
    exporters: { spans },
    sampling: { ratio: 0.1, tail: false, incidentSource: new BusIncidentModeSource({ bus: t.service.bus, subjectPrefix: 'inctest', durable: 'workload-process' }) },
    metrics: { requestMetrics: false },
    now: () => now,
  });

  // Some stored telemetry for both tenants, for the captures and the retention hold.
  for (const tenant of [TENANT, 'globex']) {
    const write = await t.token(tenant, [`stella:telemetry:write#tenant/${tenant}`]);
    const r = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${t.ports.http}/v1/traces`, headers: { authorization: `Bearer ${write}` } }), makeSpans(`svc-${tenant}`));
    expect(r.code).toBe(ExportResultCode.SUCCESS);
  }
});

afterAll(async () => {
  await telemetry?.shutdown();
  await t?.stop();
  hook?.close();
});

/** 200 root spans per tenant; returns how many the process kept for each. */
async function traffic(): Promise<Record<string, number>> {
  spans.reset();
  for (const tenant of [TENANT, 'globex']) {
    withContext({ tenant_id: tenant }, () => {
      for (let i = 0; i < 200; i++) withSpan('job.step', {}, () => undefined);
    });
  }
  await telemetry.forceFlush();
  const count: Record<string, number> = { [TENANT]: 0, globex: 0 };
  // Only this traffic's spans: the service in the same process may trace its own work for the
  // tenant meanwhile (the capture that incident mode starts, for one).
  for (const s of spans.getFinishedSpans()) if (s.name === 'job.step') count[String(s.attributes['stella.tenant_id'])]! += 1;
  return count;
}

/** The service's per-tenant `telemetry_incident_mode{tenant,state}` series, from its /metrics. */
async function gauge(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of (await scrape(t.service)).samples) {
    if (s.name === 'telemetry_incident_mode' && s.labels['service'] === undefined) out[`${s.labels['tenant']}/${s.labels['state']}`] = s.value;
  }
  return out;
}

async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
function cloudEvents(type: string): { event: Record<string, any>; delivery: Delivery }[] {
  return deliveries.map((d) => ({ event: JSON.parse(d.body), delivery: d })).filter((e) => e.event.type === type);
}

async function verifyCaptureFile(relative: string): Promise<boolean> {
  const capture = t.service.features.get('capture') as CaptureRuntime;
  const v = await verifyBundleStream(createReadStream(join(t.dataDir, relative)).pipe(createGunzip()), { publicKey: capture.signer().publicKeyPem });
  return v.ok;
}

describe('incident mode', () => {
  it('switches a 10% process to 100% for the tenant only, within the propagation bound, with audit, webhook, gauge and captures; reverts after the TTL', async () => {
    const incident = t.service.features.get('incident') as IncidentRuntime;
    const before = await traffic();
    expect(before[TENANT]).toBeLessThan(200);

    const started = Date.now();
    const on = await t.service.app.inject({
      method: 'POST',
      url: '/telemetry/incidents/mode',
      headers: { authorization: `Bearer ${admin}` },
      payload: { tenant: TENANT, state: 'on', ttl: '1h', reason: 'checkout errors' },
    });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({ state: 'on', extended: false, modes: [{ tenant: TENANT, service: null, state: 'on' }] });
    await until(() => (telemetry.incidents.isActive(TENANT, 'workload') ? true : undefined), 'the bus to switch the process');
    expect(Date.now() - started).toBeLessThan(2000);

    const during = await traffic();
    expect(during[TENANT]).toBe(200);
    expect(during['globex']).toBeLessThan(200);
    expect(await gauge()).toMatchObject({ [`${TENANT}/on`]: 1, [`${TENANT}/off`]: 0 });

    // The HTTP poller of telemetry-core reads the same state from the status route.
    const pollToken = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
    const api = `http://127.0.0.1:${(t.service.app.server.address() as AddressInfo).port}`;
    const poller = new HttpIncidentModeSource({ url: api, headers: { authorization: `Bearer ${pollToken}` } });
    const polled: unknown[] = [];
    poller.subscribe((m) => polled.push(m));
    await poller.pollNow();
    await poller.close();
    expect(polled.at(-1)).toEqual([{ tenant: TENANT, service: null, state: 'on', expires_at: new Date(now + 3_600_000).toISOString() }]);

    // Webhook: the start event, delivered on the retry, CloudEvents 1.0, HMAC-signed.
    await incident.controller.settled();
    const [startEvent] = cloudEvents('io.stellaops.incident.started');
    expect(startEvent).toBeDefined();
    expect(startEvent!.event).toMatchObject({ specversion: '1.0', source: '/stellaops/observability/incident-mode', subject: `tenant/${TENANT}`, datacontenttype: 'application/json', data: { tenant: TENANT, reason: 'checkout errors' } });
    expect(startEvent!.delivery.contentType).toBe('application/cloudevents+json');
    expect(startEvent!.delivery.attempt).toBe('2');
    expect(startEvent!.delivery.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(startEvent!.delivery.body).digest('hex')}`);

    // The start capture exists, verifies and holds the tenant's stored spans.
    const status1 = (await t.service.app.inject({ method: 'GET', url: '/telemetry/incidents/mode', headers: { authorization: `Bearer ${admin}` } })).json();
    const startCapture = status1.incidents[0].start_capture;
    expect(startCapture.items).toBe(2);
    expect(existsSync(join(t.dataDir, startCapture.file))).toBe(true);
    expect(await verifyCaptureFile(startCapture.file)).toBe(true);

    // TTL: one hour later the job ends it; the process goes back to 10%.
    now += 3_600_000 + 1000;
    const ended = await incident.ttl.runOnce();
    expect(ended.map((e) => e.end_reason)).toEqual(['ttl']);
    await until(() => (telemetry.incidents.isActive(TENANT, 'workload') ? undefined : true), 'the process to revert');
    const after = await traffic();
    expect(after[TENANT]).toBeLessThan(200);
    expect(await gauge()).toMatchObject({ [`${TENANT}/on`]: 0, [`${TENANT}/off`]: 1 });
    await incident.controller.settled();
    expect(cloudEvents('io.stellaops.incident.stopped')[0]!.event.data).toMatchObject({ end_reason: 'ttl', ended_by: 'system:ttl' });
    const status2 = (await t.service.app.inject({ method: 'GET', url: '/telemetry/incidents/mode', headers: { authorization: `Bearer ${admin}` } })).json();
    expect(status2.modes).toEqual([]);
    expect(await verifyCaptureFile(status2.incidents[0].stop_capture.file)).toBe(true);

    // Every toggle is audited on the timeline.
    const audits = await until(async () => {
      const res = await t.service.app.inject({ method: 'GET', url: '/timeline?kind=audit.incident.*', headers: { authorization: `Bearer ${admin}` } });
      const kinds = (res.json().events as { kind: string }[]).map((e) => e.kind).sort();
      return kinds.length >= 2 ? kinds : undefined;
    }, 'audit events');
    expect(audits).toEqual(['audit.incident.mode_expired', 'audit.incident.mode_on']);
  });

  it('refuses automatic triggers during the cooldown, switches off on request, and explains refusals', async () => {
    const post = (payload: Record<string, unknown>) => t.service.app.inject({ method: 'POST', url: '/telemetry/incidents/mode', headers: { authorization: `Bearer ${admin}` }, payload });
    const auto = await post({ state: 'on', ttl: '2h', reason: 'burn rate', trigger: 'slo_burn' });
    expect(auto.statusCode).toBe(409);
    expect(auto.json().error_code).toBe('incident.cooldown');
    expect((await post({ state: 'on', ttl: '100h' })).json()).toMatchObject({ error_code: 'incident.ttl_invalid', allowed: { max_hours: 72 } });
    expect((await post({ state: 'on', tenant: 'globex' })).json().error_code).toBe('incident.tenant_mismatch');
    const svc = await post({ state: 'on', service: 'checkout', ttl: '30m', reason: 'manual' });
    expect(svc.statusCode).toBe(200);
    expect(svc.json().modes).toEqual([{ tenant: TENANT, service: 'checkout', state: 'on', expires_at: new Date(now + 1_800_000).toISOString() }]);
    const off = await post({ state: 'off', service: 'checkout' });
    expect(off.json()).toMatchObject({ state: 'off', incident: { end_reason: 'off' }, modes: [] });
    expect((await post({ state: 'off', service: 'checkout' })).json().error_code).toBe('incident.not_active');
    const reader = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const forbidden = await t.service.app.inject({ method: 'POST', url: '/telemetry/incidents/mode', headers: { authorization: `Bearer ${reader}` }, payload: { state: 'on' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().required_scope).toBe(`stella:incident:admin#tenant/${TENANT}`);
  });

  it('keeps telemetry of the incident window past its retention, and prunes the rest', async () => {
    const segments = t.segments;
    // Past the default warm tier (30 days of raw segments).
    now += 31 * 86_400_000;
    const run = await segments.retention.runOnce();
    expect(run.held.some((h) => h.tenant === TENANT && h.signal === 'traces')).toBe(true);
    expect(run.removed.some((r) => r.tenant === 'globex' && r.signal === 'traces')).toBe(true);
    expect(await t.telemetry.segments.segments('globex', 'traces')).toEqual([]);
    const kept = await t.telemetry.segments.segments(TENANT, 'traces');
    expect(kept).toHaveLength(1);
    expect(kept[0]!.sealed).toBe(true);
  });
});
