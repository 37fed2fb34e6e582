/**
 * The service's own traces and logs are stored in its own telemetry store under the operator
 * tenant (`--self-tenant`): the trace id the `stella` CLI prints is found by `GET /obs/trace/:id`,
 * the lines of a refused command and of the start by `GET /obs/logs` — and storing telemetry
 * makes no telemetry: OTLP pushes (HTTP and gRPC) and the index writer add no span, and the
 * export of the service's own spans adds none either.
 */
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createProgram } from '@stellaops/cli';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';
import { sampleValue, scrape } from './helpers.js';

const TENANT = 'acme';
const OPERATORS = 'ops-self';

let t: ReceiverService;
let api: string;
let token: string;
let operator: string;
let writer: string;
let cwd: string;

interface TraceView {
  trace_id: string;
  services: string[];
  spans: { name: string; kind: string; service: string; attributes: Record<string, unknown> }[];
}
interface LogsView {
  logs: { severity_text: string | null; service: string; trace_id: string | null; body: string; attributes: Record<string, unknown> }[];
}

async function stella(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd, stderrIsTTY: false });
  const code = await run([...argv, '--server', api]);
  return { code, out, err };
}

/** Everything the service recorded about itself so far, stored and indexed. */
async function settle(): Promise<void> {
  await t.service.self.flush();
  await t.service.parts.telemetry.index.flush();
}

/** Spans stored under the operator tenant, counted by name. */
async function spanNames(): Promise<Record<string, number>> {
  const { rows } = await t.service.store.tenantTransaction(OPERATORS, (tx) =>
    tx.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM telemetry_spans WHERE tenant_id = $1 GROUP BY name ORDER BY name', [OPERATORS]),
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'stella-self-traces-'));
  t = await startReceiver({}, ['--self-tenant', OPERATORS, '--self-sampling-ratio', '1', '--log-level', 'warn']);
  api = `http://127.0.0.1:${(t.service.app.server.address() as AddressInfo).port}`;
  token = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
  operator = await t.token(OPERATORS, [`stella:obs:read#tenant/${OPERATORS}`]);
  writer = await t.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await rm(cwd, { recursive: true, force: true });
});

describe("the service's own traces and logs", () => {
  it('stores the server span of a stella command under the operator tenant, found by the trace id the CLI prints', async () => {
    const shown = await stella(['telemetry', 'retention', 'show', '--json', '--token', token]);
    expect(shown.code, shown.err).toBe(0);
    const traceId = (JSON.parse(shown.out) as { trace_id: string }).trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await settle();

    const found = await t.service.app.inject({ url: `/obs/trace/${traceId}`, headers: { authorization: `Bearer ${operator}` } });
    expect(found.statusCode, found.body).toBe(200);
    const trace = found.json<TraceView>();
    expect(trace.services).toEqual(['stella-observability']);
    expect(trace.spans).toHaveLength(1);
    expect(trace.spans[0]).toMatchObject({
      name: 'api.telemetry.retention',
      kind: 'SERVER',
      attributes: { 'http.route': '/telemetry/retention', 'http.response.status_code': 200, 'stella.tenant_id': TENANT, 'stella.authz.effect': 'allow' },
    });
    // The requesting tenant does not see the service's own telemetry.
    const asTenant = await t.service.app.inject({ url: `/obs/trace/${traceId}`, headers: { authorization: `Bearer ${token}` } });
    expect(asTenant.statusCode).toBe(404);
  });

  it("stores its log lines with the request's trace id, and the lines of its start", async () => {
    const refused = await stella(['telemetry', 'quarantine', 'list', '--token', token]);
    expect(refused.code).toBe(2);
    const traceId = /\(trace_id ([0-9a-f]{32})\)/.exec(refused.err)?.[1];
    expect(traceId, refused.err).toBeDefined();
    await settle();

    const logs = await t.service.app.inject({ url: `/obs/logs?trace_id=${traceId}`, headers: { authorization: `Bearer ${operator}` } });
    expect(logs.statusCode, logs.body).toBe(200);
    const lines = logs.json<LogsView>().logs;
    expect(lines.map((l) => [l.body, l.severity_text, l.service])).toEqual([['decision.authz', 'WARN', 'stella-observability']]);
    expect(lines[0]!.attributes).toMatchObject({ decision_effect: 'deny', tenant_id: TENANT });

    const start = await t.service.app.inject({ url: '/obs/logs?q=DEVELOPMENT%20AUTHORITY', headers: { authorization: `Bearer ${operator}` } });
    expect(start.json<LogsView>().logs).toHaveLength(1);
  });

  it('adds no span for OTLP pushes or their indexing, nor for exporting its own spans', async () => {
    await settle();
    const before = await spanNames();
    const acceptedBefore = sampleValue((await scrape(t.service)).samples, 'telemetry_receiver_accepted_total', { tenant: OPERATORS, signal: 'traces' })!;

    const http = new OTLPTraceExporter({ url: `http://127.0.0.1:${t.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${writer}`);
    const grpc = new GrpcTraceExporter({ url: `http://127.0.0.1:${t.ports.grpc}`, metadata, credentials: credentials.createInsecure() });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await exportWith(http, makeSpans(`svc-push-${i}`))).code).toBe(ExportResultCode.SUCCESS);
        expect((await exportWith(grpc, makeSpans(`svc-grpc-${i}`))).code).toBe(ExportResultCode.SUCCESS);
      }
    } finally {
      await grpc.shutdown();
    }
    await settle();
    await settle();
    expect(await spanNames()).toEqual(before);

    // Two API requests: exactly two spans, however often the pipeline flushes.
    for (let i = 0; i < 2; i++) expect((await t.service.app.inject({ url: '/obs/health', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    await settle();
    await settle();
    const after = await spanNames();
    expect(after).toEqual({ ...before, 'api.obs.health': (before['api.obs.health'] ?? 0) + 2 });
    const acceptedAfter = sampleValue((await scrape(t.service)).samples, 'telemetry_receiver_accepted_total', { tenant: OPERATORS, signal: 'traces' })!;
    expect(acceptedAfter - acceptedBefore).toBe(2);
  });
});
