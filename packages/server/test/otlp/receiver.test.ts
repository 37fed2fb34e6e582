import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { context, trace } from '@opentelemetry/api';
import { decodeRequest, encodeRequest } from '../../src/segments/signal-records.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from './otlp-helpers.js';

let t: ReceiverService;
let token: string;
let readToken: string;
const TENANT = 'acme';

beforeAll(async () => {
  t = await startReceiver({}, ['--otlp-max-message-bytes', String(256 * 1024), '--otlp-tenant-records-per-sec', '1000']);
  token = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  readToken = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
});
afterAll(async () => t?.stop());

const httpUrl = (signal: string): string => `http://127.0.0.1:${t.ports.http}/v1/${signal}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
async function getTrace(traceId: string): Promise<{ status: number; body: any }> {
  const res = await t.service.app.inject({ method: 'GET', url: `/obs/trace/${traceId}`, headers: { authorization: `Bearer ${readToken}` } });
  return { status: res.statusCode, body: res.json() };
}

async function post(signal: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(httpUrl(signal), { method: 'POST', body, headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** Records stored for the tenant, counted from the segment files themselves. */
async function storedRecords(signal: 'traces' | 'logs' | 'metrics'): Promise<number> {
  let n = 0;
  for (const seg of await t.telemetry.segments.segments(TENANT, signal)) {
    for await (const record of t.telemetry.segments.records(TENANT, signal, seg.name)) {
      decodeRequest(signal, record.payload);
      n++;
    }
  }
  return n;
}

describe('OTLP receiver with the official OpenTelemetry JS exporters', () => {
  const exporters = {
    'http/protobuf': () => new ProtoTraceExporter({ url: httpUrl('traces'), headers: { authorization: `Bearer ${token}` } }),
    'http/json': () => new JsonTraceExporter({ url: httpUrl('traces'), headers: { authorization: `Bearer ${token}` } }),
    grpc: () => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return new GrpcTraceExporter({ url: `http://127.0.0.1:${t.ports.grpc}`, metadata, credentials: credentials.createInsecure() });
    },
  };

  for (const [protocol, make] of Object.entries(exporters)) {
    it(`${protocol}: the spans come back from /obs/trace/:id as a tree, scrubbed`, async () => {
      const spans = makeSpans(`svc-${protocol.replace('/', '-')}`);
      const exporter = make();
      const result = await exportWith(exporter, spans);
      await exporter.shutdown();
      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);

      const traceId = spans[0]!.spanContext().traceId;
      const { status, body } = await getTrace(traceId);
      expect(status).toBe(200);
      expect(body.span_count).toBe(2);
      const [root, child] = body.spans;
      expect(root.name).toBe('GET /policy/evaluate');
      expect(root.kind).toBe('SERVER');
      expect(root.depth).toBe(0);
      expect(root.children).toEqual([child.span_id]);
      expect(child.parent_span_id).toBe(root.span_id);
      expect(child.depth).toBe(1);
      expect(child.service).toBe(`svc-${protocol.replace('/', '-')}`);
      expect(child.events[0].name).toBe('rule.matched');
      expect(child.status.code).toBe('ERROR');
      // Same ids and timing as the SDK recorded.
      const sdkChild = spans.find((s) => s.name === 'policy.evaluate')!;
      expect(child.span_id).toBe(sdkChild.spanContext().spanId);
      expect(child.start_time_unix_nano).toBe((BigInt(sdkChild.startTime[0]) * 1_000_000_000n + BigInt(sdkChild.startTime[1])).toString());
      // Allowlisted and harmless attributes pass; secrets and PII do not.
      expect(root.attributes['http.route']).toBe('/policy/evaluate');
      expect(child.attributes['policy.version']).toBe('7');
      const text = JSON.stringify(body);
      expect(text).not.toContain('alice@example.com');
      expect(text).not.toContain('hunter2-secret');
      expect(text).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
      expect(String(root.attributes['user.email'])).toMatch(/REDACTED/);
      expect(String(child.attributes['db.password'])).toMatch(/REDACTED/);
      expect(body.deep_link).toBeNull();
    });
  }

  it('logs (protobuf and gRPC) reach /obs/logs with trace correlation; metrics (JSON) are stored', async () => {
    const traceId = 'aa'.repeat(16);
    const spanId = 'bb'.repeat(8);
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    for (const exporter of [
      new ProtoLogExporter({ url: httpUrl('logs'), headers: { authorization: `Bearer ${token}` } }),
      new GrpcLogExporter({ url: `http://127.0.0.1:${t.ports.grpc}`, metadata, credentials: credentials.createInsecure() }),
    ]) {
      const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'log-svc' }), processors: [new SimpleLogRecordProcessor({ exporter })] });
      const ctx = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: 1 });
      provider.getLogger('test').emit({ severityNumber: 17, severityText: 'ERROR', body: 'policy denied for carol@example.com', attributes: { 'error.code': 'POLICY_DENY' }, context: ctx });
      await provider.forceFlush();
      await provider.shutdown();
    }
    const res = await t.service.app.inject({ method: 'GET', url: `/obs/logs?trace_id=${traceId}&severity=ERROR`, headers: { authorization: `Bearer ${readToken}` } });
    expect(res.statusCode).toBe(200);
    const logs = res.json().logs;
    expect(logs).toHaveLength(2);
    expect(logs[0].service).toBe('log-svc');
    expect(logs[0].span_id).toBe(spanId);
    expect(logs[0].attributes['error.code']).toBe('POLICY_DENY');
    expect(logs[0].body).not.toContain('carol@example.com');

    const reader = new PeriodicExportingMetricReader({ exporter: new JsonMetricExporter({ url: httpUrl('metrics'), headers: { authorization: `Bearer ${token}` } }), exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'metric-svc' }), readers: [reader] });
    meterProvider.getMeter('m').createCounter('jobs').add(3, { queue: 'default' });
    const before = await storedRecords('metrics');
    await meterProvider.forceFlush();
    await meterProvider.shutdown();
    expect(await storedRecords('metrics')).toBeGreaterThan(before);
  });
});

describe('OTLP receiver refusals', () => {
  const valid = (): Uint8Array =>
    encodeRequest('traces', decodeRequest('traces', encodeRequest('traces', { resourceSpans: [] } as never)) as never);

  async function expectRefused(res: Response, status: number, code: string): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('x-stella-error-code')).toBe(code);
  }

  it('refuses malformed protobuf, malformed JSON, wrong content type, oversize and gzip bombs cleanly, writing nothing', async () => {
    const before = await storedRecords('traces');
    await expectRefused(await post('traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' }), 400, 'otlp.malformed_protobuf');
    await expectRefused(await post('traces', '{"resourceSpans": [', { 'content-type': 'application/json' }), 400, 'otlp.malformed_json');
    const wrongType = await post('traces', 'hello', { 'content-type': 'text/plain' });
    await expectRefused(wrongType, 415, 'otlp.unsupported_media_type');
    await expectRefused(await post('traces', Buffer.alloc(300 * 1024, 1), { 'content-type': 'application/x-protobuf' }), 413, 'otlp.body_too_large');
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(256 * 1024);
    await expectRefused(await post('traces', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }), 413, 'otlp.decompressed_too_large');
    await expectRefused(await post('traces', Buffer.from('not gzip'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }), 400, 'otlp.malformed_gzip');
    await expectRefused(await post('traces', valid(), { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' }), 415, 'otlp.unsupported_encoding');
    await expectRefused(await fetch(httpUrl('traces'), { method: 'POST', body: valid(), headers: { 'content-type': 'application/x-protobuf' } }), 401, 'auth.token_missing');
    const wrongScope = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    await expectRefused(await fetch(httpUrl('traces'), { method: 'POST', body: valid(), headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${wrongScope}` } }), 403, 'auth.scope_denied');
    // The error body is a google.rpc.Status in the request's encoding.
    const jsonError = await post('traces', '[]', { 'content-type': 'application/json' });
    expect(jsonError.status).toBe(400);
    expect(await jsonError.json()).toMatchObject({ code: 3, message: expect.stringMatching(/^otlp\.malformed_json/) });

    // A resource naming another tenant is refused whole.
    const spans = makeSpans('intruder', { 'tenant.id': 'globex' });
    const mismatch = await exportWith(new ProtoTraceExporter({ url: httpUrl('traces'), headers: { authorization: `Bearer ${token}` } }), spans);
    expect(mismatch.code).toBe(ExportResultCode.FAILED);
    expect(String(mismatch.error)).toMatch(/Forbidden|403/);

    expect(await storedRecords('traces')).toBe(before);
    // Still healthy: a good request goes through.
    const ok = await exportWith(new ProtoTraceExporter({ url: httpUrl('traces'), headers: { authorization: `Bearer ${token}` } }), makeSpans('after-bad-input'));
    expect(ok.code).toBe(ExportResultCode.SUCCESS);
    expect(await storedRecords('traces')).toBe(before + 1);
  });

  it('answers partial success for spans with malformed ids and keeps the rest', async () => {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'partial' } }] },
          scopeSpans: [
            {
              spans: [
                { traceId: 'cc'.repeat(16), spanId: 'dd'.repeat(8), name: 'good', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000500000000' },
                { traceId: 'cc'.repeat(4), spanId: 'ee'.repeat(8), name: 'short trace id', kind: 1, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000500000000' },
              ],
            },
          ],
        },
      ],
    });
    const res = await post('traces', body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partialSuccess: { rejectedSpans: 1, errorMessage: expect.stringContaining('trace id') } });
    const { body: traceBody } = await getTrace('cc'.repeat(16));
    expect(traceBody.spans.map((s: { name: string }) => s.name)).toEqual(['good']);
  });

  it('refuses over-quota tenants with 429 and Retry-After, leaving other tenants served', async () => {
    // The service allows 1000 records/s per tenant; one request of 1500 drains the bucket.
    const noisy = await t.token('noisy', ['stella:telemetry:write#tenant/noisy']);
    const quiet = await t.token('quiet', ['stella:telemetry:write#tenant/quiet']);
    const send = (tok: string) =>
      fetch(httpUrl('traces'), { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/x-protobuf' }, body: encodeSpans(1500) });
    expect((await send(noisy)).status).toBe(200);
    const refused = await send(noisy);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-stella-error-code')).toBe('otlp.quota_exceeded');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await send(quiet)).status).toBe(200);
  });
});

/** `n` spans of one trace as protobuf, built without the SDK. */
function encodeSpans(n: number): Uint8Array {
  const spans = Array.from({ length: n }, (_, i) => {
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(i + 1, 4);
    return { traceId: Buffer.from('11'.repeat(16), 'hex'), spanId, name: 'x', kind: 1, startTimeUnixNano: 1, endTimeUnixNano: 2 };
  });
  return encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] } as never);
}
