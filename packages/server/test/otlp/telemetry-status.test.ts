/**
 * `GET /telemetry/status`: the tenant's ingest rates over the last minute and five minutes, from
 * what the receiver stored and refused, apart per tenant; the sealed state; the scope check.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExportResultCode } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestRates } from '../../src/self/ingest-rates.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from './otlp-helpers.js';

describe('IngestRates', () => {
  it('counts into the last minute and the last five minutes, forgets what is older, and keeps tenants apart', () => {
    let now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const rates = new IngestRates(() => now);
    rates.record('accepted', 'acme', 'traces', 120);
    rates.record('refused', 'acme', 'traces', 6);
    rates.record('accepted', 'acme', 'logs', 30);
    rates.record('accepted', 'globex', 'traces', 999);
    rates.record('accepted', 'acme', 'profiles', 5); // not a signal: ignored
    const [minute, five] = rates.rates('acme');
    expect(minute!.window_seconds).toBe(60);
    expect(minute!.signals.traces).toEqual({ accepted_per_second: 2, refused_per_second: 0.1 });
    expect(minute!.signals.logs).toEqual({ accepted_per_second: 0.5, refused_per_second: 0 });
    expect(minute!.signals.metrics).toEqual({ accepted_per_second: 0, refused_per_second: 0 });
    expect(five!.signals.traces).toEqual({ accepted_per_second: 0.4, refused_per_second: 0.02 });

    // Two minutes on: out of the last minute, still in the last five.
    now += 120_000;
    rates.record('accepted', 'acme', 'traces', 60);
    const [minuteLater, fiveLater] = rates.rates('acme');
    expect(minuteLater!.signals.traces.accepted_per_second).toBe(1);
    expect(fiveLater!.signals.traces.accepted_per_second).toBe(0.6);
    // Six minutes on: all of it is older than the longest window.
    now += 360_000;
    expect(rates.rates('acme')[1]!.signals.traces).toEqual({ accepted_per_second: 0, refused_per_second: 0 });
    expect(rates.rates('nobody')[0]!.signals.traces.accepted_per_second).toBe(0);
  });

  it('keeps at most its bound of tenants, forgetting the one idle longest', () => {
    let now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const rates = new IngestRates(() => now, 2);
    rates.record('accepted', 'a', 'traces', 60);
    now += 20_000;
    rates.record('accepted', 'b', 'traces', 60);
    now += 20_000;
    rates.record('accepted', 'a', 'traces', 60); // a used again: b is now the idlest
    rates.record('accepted', 'c', 'traces', 60);
    expect(rates.rates('b')[0]!.signals.traces.accepted_per_second).toBe(0);
    expect(rates.rates('a')[0]!.signals.traces.accepted_per_second).toBe(2);
    expect(rates.rates('c')[0]!.signals.traces.accepted_per_second).toBe(1);
  });
});

describe('GET /telemetry/status', () => {
  let t: ReceiverService;
  beforeAll(async () => {
    t = await startReceiver({ STELLA_SEALED: 'true' });
  });
  afterAll(() => t?.stop());

  const status = async (tenant: string, scopes: string[]): Promise<Response> =>
    t.service.app.inject({ method: 'GET', url: '/telemetry/status', headers: { authorization: `Bearer ${await t.token(tenant, scopes)}` } }).then((r) => new Response(r.body, { status: r.statusCode }));

  it("answers the tenant's rates from what the receiver stored and refused, and the sealed state", async () => {
    const write = await t.token('acme', ['stella:telemetry:write#tenant/acme']);
    const url = `http://127.0.0.1:${t.ports.http}/v1/traces`;
    const spans = makeSpans('billing');
    for (let i = 0; i < 3; i++) expect((await exportWith(new OTLPTraceExporter({ url, headers: { authorization: `Bearer ${write}` } }), spans)).code).toBe(ExportResultCode.SUCCESS);
    // One request refused for acme: a body that is not OTLP.
    const refused = await fetch(url, { method: 'POST', body: 'not protobuf', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/x-protobuf' } });
    expect(refused.status).toBe(400);

    const res = await status('acme', ['stella:obs:read#tenant/acme']);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tenant: string; sealed: boolean; ingest_rates: { window_seconds: number; signals: Record<string, { accepted_per_second: number; refused_per_second: number }> }[] };
    expect(body.tenant).toBe('acme');
    expect(body.sealed).toBe(true);
    const stored = 3 * spans.length;
    expect(body.ingest_rates.map((w) => w.window_seconds)).toEqual([60, 300]);
    expect(body.ingest_rates[0]!.signals['traces']).toEqual({ accepted_per_second: Math.round((stored / 60) * 1000) / 1000, refused_per_second: Math.round((1 / 60) * 1000) / 1000 });
    expect(body.ingest_rates[1]!.signals['traces']!.accepted_per_second).toBe(Math.round((stored / 300) * 1000) / 1000);
    expect(body.ingest_rates[0]!.signals['logs']).toEqual({ accepted_per_second: 0, refused_per_second: 0 });

    // Another tenant sees its own (none), never acme's.
    const other = (await (await status('globex', ['stella:obs:read#tenant/globex'])).json()) as typeof body;
    expect(other.ingest_rates[0]!.signals['traces']!.accepted_per_second).toBe(0);
  });

  it('refuses a token without stella:obs:read or stella:telemetry:admin', async () => {
    const res = await status('acme', ['stella:timeline:read#tenant/acme']);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error_code: string }).error_code).toMatch(/^auth\./);
  });
});
