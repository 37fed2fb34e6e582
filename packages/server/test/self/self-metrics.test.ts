/**
 * `GET /metrics`: Prometheus text that promtool accepts, OpenMetrics with exemplars when asked,
 * public and untraced, also on its own listener (`--metrics-port`); and the self-metrics the
 * seeds and the alert rules name, with the values real actions give them: OTLP pushes accepted
 * and refused per tenant and signal, a quarantined timeline message, incident mode on and off,
 * forensic captures (an operator's and incident mode's own), an evidence commit, timeline
 * ingest lag, queue depths and event-loop delay.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { IncidentRuntime } from '../../src/incident/incident-feature.js';
import { parseOpenMetrics } from '../../../telemetry-core/test/metrics/openmetrics-parser.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { parseSamples, promtoolCheckMetrics, requirePromtool, sampleValue, scrape, until } from './helpers.js';

const TENANT = 'acme';
const OM = 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let t: ReceiverService;
let token: string;
let writer: string;
let api: string;

const call = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  t.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload !== undefined ? { payload: payload as never } : {}) });

async function value(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sampleValue((await scrape(t.service)).samples, name, labels);
}

beforeAll(async () => {
  t = await startReceiver({}, ['--metrics-port', '0']);
  token = await t.token(
    TENANT,
    ['timeline:read', 'timeline:write', 'obs:read', 'incident:admin', 'evidence:create', 'evidence:read', 'evidence:export'].map((s) => `stella:${s}#tenant/${TENANT}`),
  );
  writer = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  api = `http://127.0.0.1:${(t.service.app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('GET /metrics', () => {
  it('starts the counters the alert rules read at 0', async () => {
    const { samples } = await scrape(t.service);
    expect(sampleValue(samples, 'telemetry_bundle_generation_failures_total')).toBe(0);
    for (const kind of ['unhandled_rejection', 'uncaught_exception']) expect(sampleValue(samples, 'stella_process_defects_total', { kind })).toBe(0);
    for (const signal of ['traces', 'metrics', 'logs']) {
      expect(sampleValue(samples, 'collector_export_failures_total', { signal })).toBe(0);
      expect(sampleValue(samples, 'telemetry_receiver_accepted_total', { tenant: 'stella-ops', signal })).toBe(0);
    }
    for (const kind of ['evaluation', 'job-capsule', 'export']) {
      for (const outcome of ['success', 'failure']) expect(sampleValue(samples, 'stella_evidence_commits_total', { kind, outcome })).toBe(0);
    }
  });

  it('is public and untraced, and passes promtool check metrics after real traffic', async () => {
    expect((await call('GET', '/timeline')).statusCode).toBe(200);
    expect((await t.service.app.inject({ url: '/timeline' })).statusCode).toBe(401);
    expect((await t.service.app.inject({ url: '/no/such/route' })).statusCode).toBe(404);
    const r = await fetch(`${api}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.headers.get('traceparent')).toBeNull();
    const text = await r.text();
    const samples = parseSamples(text);
    expect(sampleValue(samples, 'http_server_request_duration_seconds_count', { http_route: '/timeline', http_response_status_code: '200' })).toBe(1);
    expect(sampleValue(samples, 'http_server_request_duration_seconds_count', { http_route: '/timeline', http_response_status_code: '401' })).toBe(1);
    expect(samples.some((s) => s.labels['http_route'] === '/metrics')).toBe(false);
    if (requirePromtool()) expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
  });

  it('answers OpenMetrics with exemplars carrying the trace id when the scraper asks for it', async () => {
    expect((await call('GET', '/timeline?kind=policy.*', undefined, { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` })).statusCode).toBe(200);
    const { text, contentType } = await scrape(t.service, OM);
    expect(contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(text.endsWith('# EOF\n')).toBe(true);
    const families = parseOpenMetrics(text);
    const requests = families.find((f) => f.name === 'http_server_request_duration_seconds')!;
    const exemplars = requests.samples.filter((s) => s.exemplar).map((s) => s.exemplar!.labels['trace_id']);
    expect(exemplars).toContain(TRACE_ID);
  });

  it('is served alone on --metrics-port', async () => {
    const port = t.service.metricsPort();
    expect(port).toBeGreaterThan(0);
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(sampleValue(parseSamples(text), 'telemetry_bundle_generation_failures_total')).toBe(0);
    if (requirePromtool()) expect(promtoolCheckMetrics(text).status).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/timeline`)).status).toBe(404);
  });

  it('reports its queues and its event-loop delay', async () => {
    const { samples } = await scrape(t.service);
    for (const queue of ['telemetry.index', 'bus.outbox', 'otlp.prepare']) expect(sampleValue(samples, 'stella_queue_depth', { queue })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'nodejs_eventloop_delay_p99_seconds')).toBeGreaterThanOrEqual(0);
  });
});

describe('self-metrics after real actions', () => {
  it('counts OTLP items accepted and requests refused per tenant and signal', async () => {
    const spans = makeSpans('svc-self-metrics');
    const sent = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${t.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), spans);
    expect(sent.code).toBe(ExportResultCode.SUCCESS);
    const bad = await fetch(`http://127.0.0.1:${t.ports.http}/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(bad.status).toBe(400);
    const { samples } = await scrape(t.service);
    expect(sampleValue(samples, 'telemetry_receiver_accepted_total', { tenant: TENANT, signal: 'traces' })).toBe(spans.length);
    expect(sampleValue(samples, 'telemetry_receiver_refused_total', { tenant: TENANT, signal: 'logs', error_code: 'otlp.malformed_protobuf' })).toBe(1);
  });

  it('counts a quarantined message per signal, tenant and reason', async () => {
    await t.service.bus.publish(`stella.${TENANT}.timeline.job.started`, Buffer.from('not an event'), { msgId: 'self-metrics-poison' });
    await until(async () => ((await value('stella_ingest_quarantined_total', { signal: 'timeline', tenant: TENANT, reason: 'timeline.event_invalid' })) === 1 ? true : undefined), 'the quarantined message to be counted');
  });

  it('measures forensic captures: an operator capture, then the start and stop captures of incident mode', async () => {
    const capture = await call('GET', '/telemetry/exports/forensic/1h');
    expect(capture.statusCode, capture.body).toBe(200);
    expect(await value('telemetry_bundle_generation_seconds_count', { outcome: 'success' })).toBe(1);

    const on = await call('POST', '/telemetry/incidents/mode', { tenant: TENANT, state: 'on', ttl: '1h', reason: 'self-metrics' });
    expect(on.statusCode, on.body).toBe(200);
    expect(await value('telemetry_incident_mode', { tenant: TENANT, state: 'on' })).toBe(1);
    expect(await value('telemetry_incident_mode', { tenant: TENANT, state: 'off' })).toBe(0);

    const off = await call('POST', '/telemetry/incidents/mode', { tenant: TENANT, state: 'off' });
    expect(off.statusCode, off.body).toBe(200);
    expect(await value('telemetry_incident_mode', { tenant: TENANT, state: 'on' })).toBe(0);
    expect(await value('telemetry_incident_mode', { tenant: TENANT, state: 'off' })).toBe(1);

    await (t.service.features.get('incident') as IncidentRuntime).controller.settled();
    expect(await value('telemetry_bundle_generation_seconds_count', { outcome: 'success' })).toBe(3);
    expect(await value('telemetry_bundle_generation_failures_total')).toBe(0);
  });

  it('counts an evidence commit by kind and outcome', async () => {
    const artifact = await call('POST', '/evidence/artifacts', {
      resource_type: 'job',
      resource_id: 'job-self',
      role: 'transcript',
      name: 'run.log',
      media_type: 'text/plain',
      content_base64: Buffer.from('ran job-self\n').toString('base64'),
    });
    expect(artifact.statusCode, artifact.body).toBe(201);
    const snapshot = await call('POST', '/evidence/snapshot', { kind: 'job-capsule', resource_id: 'job-self', resource_type: 'job', case_id: 'case-self' });
    expect(snapshot.statusCode, snapshot.body).toBe(201);
    expect(await value('stella_evidence_commits_total', { kind: 'job-capsule', outcome: 'success' })).toBe(1);
  });

  it('measures timeline ingest lag', async () => {
    const posted = await call('POST', '/timeline/events', { events: [{ kind: 'job.started', resource_type: 'job', resource_id: 'job-lag' }] });
    expect(posted.statusCode, posted.body).toBe(202);
    await until(async () => ((await call('GET', '/timeline?resource_type=job&resource_id=job-lag')).json<{ events: unknown[] }>().events.length === 1 ? true : undefined), 'the event to be indexed');
    expect(await value('stella_timeline_ingest_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(await value('stella_timeline_ingest_lag_seconds_bucket', { le: '+Inf' })).toBe(await value('stella_timeline_ingest_lag_seconds_count'));
  });
});
