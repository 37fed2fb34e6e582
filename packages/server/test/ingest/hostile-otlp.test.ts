/**
 * A hostile-record corpus through every OTLP path (HTTP protobuf, HTTP JSON, gRPC) for two
 * tenants at once, on both engines: the service stays up, every good record of the same
 * request and of the other tenant is readable, bad records are rejected (partial success) or
 * normalised, and nothing reaches the store that it refuses.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Client, Metadata } from '@grpc/grpc-js';
import { decodeResponse, GRPC_PATHS } from '../../src/otlp/otlp-proto.js';
import { REQUEST_TYPES, type Signal } from '../../src/segments/signal-records.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const TENANTS = ['acme', 'globex'] as const;
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

type Json = Record<string, unknown>;

function id(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function nested(depth: number): Json {
  let value: Json = { stringValue: 'bottom' };
  for (let i = 0; i < depth; i++) value = { kvlistValue: { values: [{ key: `k${i}`, value }] } };
  return value;
}

interface SpanCase {
  name: string;
  /** Expected to be kept (true) or rejected (false). */
  kept: boolean;
  span: (traceId: string) => Json;
}

function baseSpan(traceId: string, extra: Json = {}): Json {
  return {
    traceId,
    spanId: id(8),
    name: 'GET /ok',
    kind: 2,
    startTimeUnixNano: String(NOW_NS),
    endTimeUnixNano: String(NOW_NS + 5_000_000n),
    attributes: [{ key: 'http.route', value: { stringValue: '/ok' } }],
    ...extra,
  };
}

/** Every case gets its own trace id, so what is readable afterwards tells exactly which were kept. */
const SPAN_CASES: SpanCase[] = [
  { name: 'plain good span', kept: true, span: (t) => baseSpan(t) },
  { name: 'kind 70000', kept: false, span: (t) => baseSpan(t, { kind: 70000 }) },
  { name: 'kind -1', kept: false, span: (t) => baseSpan(t, { kind: -1 }) },
  { name: 'status code 40000', kept: false, span: (t) => baseSpan(t, { status: { code: 40000, message: 'x' } }) },
  { name: 'status code 2 (error) with message', kept: true, span: (t) => baseSpan(t, { status: { code: 2, message: 'failed' } }) },
  { name: 'NUL in the name', kept: true, span: (t) => baseSpan(t, { name: 'GET /a\u0000b' }) },
  { name: 'lone surrogate in the name', kept: true, span: (t) => baseSpan(t, { name: 'GET /\ud800x' }) },
  { name: 'NUL in an attribute value', kept: true, span: (t) => baseSpan(t, { attributes: [{ key: 'http.route', value: { stringValue: '/r\u0000' } }] }) },
  { name: 'NUL and surrogate in an attribute key', kept: true, span: (t) => baseSpan(t, { attributes: [{ key: 'k\u0000\udc00', value: { stringValue: 'v' } }] }) },
  { name: 'missing name and kind', kept: true, span: (t) => ({ traceId: t, spanId: id(8), startTimeUnixNano: String(NOW_NS), endTimeUnixNano: String(NOW_NS) }) },
  { name: 'end before start', kept: true, span: (t) => baseSpan(t, { endTimeUnixNano: '1' }) },
  { name: 'attributes nested 40 deep', kept: false, span: (t) => baseSpan(t, { attributes: [{ key: 'deep', value: nested(40) }] }) },
  { name: 'attributes nested 20 deep', kept: true, span: (t) => baseSpan(t, { attributes: [{ key: 'deep', value: nested(20) }] }) },
  { name: '2000 attributes', kept: false, span: (t) => baseSpan(t, { attributes: Array.from({ length: 2000 }, (_, i) => ({ key: `a${i}`, value: { intValue: i } })) }) },
  { name: 'huge name (200 KB)', kept: true, span: (t) => baseSpan(t, { name: 'n'.repeat(200_000), kind: 5 }) },
  { name: 'huge route attribute (100 KB)', kept: true, span: (t) => baseSpan(t, { attributes: [{ key: 'http.route', value: { stringValue: '/'.repeat(100_000) } }] }) },
  { name: 'link with a short span id', kept: false, span: (t) => baseSpan(t, { links: [{ traceId: id(16), spanId: 'abcd' }] }) },
  { name: 'parent id of 3 bytes', kept: false, span: (t) => baseSpan(t, { parentSpanId: 'abcdef' }) },
];

function traceRequest(service: string, cases: SpanCase[], traceIds: string[]): Json {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'hostile', version: '1' }, spans: cases.map((c, i) => c.span(traceIds[i]!)) }],
      },
    ],
  };
}

/** OTLP/JSON → the protobuf message (ids hex → bytes) → protobuf bytes, for the binary paths. */
function toProtobuf(signal: Signal, json: Json): Uint8Array {
  const convert = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(convert);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, ['traceId', 'spanId', 'parentSpanId'].includes(k) && typeof x === 'string' ? Buffer.from(x, 'hex') : convert(x)]));
  };
  const type = REQUEST_TYPES[signal];
  return type.encode(type.fromObject(convert(json) as Json) as never).finish();
}

const LOG_CASES: { name: string; kept: boolean; record: Json }[] = [
  { name: 'plain log', kept: true, record: { severityNumber: 9, body: { stringValue: 'hello' } } },
  { name: 'severity 99999', kept: false, record: { severityNumber: 99999, body: { stringValue: 'x' } } },
  { name: 'NUL in the body', kept: true, record: { severityNumber: 17, body: { stringValue: 'a\u0000b' } } },
  { name: 'lone surrogate in an attribute', kept: true, record: { severityNumber: 13, body: { stringValue: 'y' }, attributes: [{ key: 'k', value: { stringValue: '\udfff' } }] } },
  { name: 'NUL in an attribute key and value', kept: true, record: { severityNumber: 13, body: { stringValue: 'z' }, attributes: [{ key: 'a\u0000', value: { stringValue: 'b\u0000' } }] } },
  { name: 'body nested 40 deep', kept: false, record: { severityNumber: 9, body: nested(40) } },
  { name: 'bad trace id length', kept: false, record: { severityNumber: 9, traceId: 'abcd', body: { stringValue: 'x' } } },
];

function logsRequest(service: string, marker: string): Json {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [{ scope: { name: 'hostile' }, logRecords: LOG_CASES.map((c) => ({ timeUnixNano: String(NOW_NS), ...c.record, attributes: [...((c.record['attributes'] as Json[]) ?? []), { key: 'marker', value: { stringValue: marker } }] })) }],
      },
    ],
  };
}

interface Engine {
  name: string;
  env: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> } | undefined>;
}

const engines: Engine[] = [
  { name: 'PGlite', env: async () => ({ env: {}, cleanup: async () => undefined }) },
  {
    name: 'PostgreSQL',
    env: async () => {
      if (!(await postgresAvailable())) return undefined;
      const db: TestDatabase = await createTestDatabase();
      return { env: { STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole }, cleanup: () => db.drop() };
    },
  },
];

for (const engine of engines) {
  describe(`hostile OTLP records (${engine.name})`, () => {
    let t: ReceiverService | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const write: Record<string, string> = {};
    const read: Record<string, string> = {};

    beforeAll(async () => {
      const setup = await engine.env();
      if (!setup) return;
      cleanup = setup.cleanup;
      t = await startReceiver(setup.env, ['--otlp-tenant-records-per-sec', '1000000']);
      for (const tenant of TENANTS) {
        write[tenant] = await t.token(tenant, [`stella:telemetry:write#tenant/${tenant}`]);
        read[tenant] = await t.token(tenant, [`stella:obs:read#tenant/${tenant}`]);
      }
    });
    afterAll(async () => {
      await t?.stop();
      await cleanup?.();
    });

    async function readable(tenant: string, traceId: string): Promise<boolean> {
      const res = await t!.service.app.inject({ method: 'GET', url: `/obs/trace/${traceId}`, headers: { authorization: `Bearer ${read[tenant]}` } });
      expect([200, 404]).toContain(res.statusCode);
      return res.statusCode === 200;
    }

    function grpcExport(signal: Signal, tenant: string, body: Uint8Array): Promise<Buffer> {
      const client = new Client(`127.0.0.1:${t!.ports.grpc}`, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${write[tenant]}`);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(GRPC_PATHS[signal], (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), metadata, (error, value) => {
          client.close();
          if (error) reject(error);
          else resolve(value!);
        });
      });
    }

    const transports = ['http/protobuf', 'http/json', 'grpc'] as const;

    async function send(transport: (typeof transports)[number], signal: Signal, tenant: string, json: Json): Promise<{ rejected: number; message: string }> {
      if (transport === 'grpc') {
        return decodeResponse(signal, await grpcExport(signal, tenant, toProtobuf(signal, json)));
      }
      const protobuf = transport === 'http/protobuf';
      const res = await fetch(`http://127.0.0.1:${t!.ports.http}/v1/${signal}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${write[tenant]}`, 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' },
        body: protobuf ? toProtobuf(signal, json) : JSON.stringify(json),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      if (protobuf) return decodeResponse(signal, new Uint8Array(await res.arrayBuffer()));
      const body = (await res.json()) as { partialSuccess?: { rejectedSpans?: number; rejectedLogRecords?: number; errorMessage?: string } };
      return { rejected: Number(body.partialSuccess?.rejectedSpans ?? body.partialSuccess?.rejectedLogRecords ?? 0), message: body.partialSuccess?.errorMessage ?? '' };
    }

    it.each(transports)('spans over %s: each bad span is rejected on its own, the good ones of both tenants are readable, the service stays up', async (transport) => {
      if (!t) return;
      const ids = Object.fromEntries(TENANTS.map((tenant) => [tenant, SPAN_CASES.map(() => id(16))]));
      // Both tenants at once, the same hostile corpus.
      const results = await Promise.all(TENANTS.map((tenant) => send(transport, 'traces', tenant, traceRequest(`svc-${tenant}`, SPAN_CASES, ids[tenant]!))));
      const expectedRejected = SPAN_CASES.filter((c) => !c.kept).length;
      for (const r of results) {
        expect(r.rejected).toBe(expectedRejected);
        expect(r.message).toMatch(/kind 70000 outside 0\.\.5/);
      }
      for (const tenant of TENANTS) {
        for (const [i, c] of SPAN_CASES.entries()) {
          expect(await readable(tenant, ids[tenant]![i]!), `${tenant}: ${c.name}`).toBe(c.kept);
        }
      }
      // Normalised strings read back with U+FFFD in place of NUL and lone surrogates.
      const nul = await t.service.app.inject({ method: 'GET', url: `/obs/trace/${ids['acme']![SPAN_CASES.findIndex((c) => c.name === 'NUL in the name')]}`, headers: { authorization: `Bearer ${read['acme']}` } });
      expect(nul.json().spans[0].name).toBe('GET /a\uFFFDb');
      const health = await t.service.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      expect([...t.service.parts.quarantine.counts.values()].reduce((a, b) => a + b, 0)).toBe(0);
    });

    it.each(transports)('logs over %s: bad log records are rejected on their own, the rest is searchable', async (transport) => {
      if (!t) return;
      const markers = Object.fromEntries(TENANTS.map((tenant) => [tenant, `m-${id(6)}`]));
      const results = await Promise.all(TENANTS.map((tenant) => send(transport, 'logs', tenant, logsRequest(`svc-${tenant}`, markers[tenant]!))));
      for (const r of results) {
        expect(r.rejected).toBe(LOG_CASES.filter((c) => !c.kept).length);
        expect(r.message).toMatch(/severity number 99999 outside 0\.\.24/);
      }
      for (const tenant of TENANTS) {
        const res = await t.service.app.inject({ method: 'GET', url: `/obs/logs?service=svc-${tenant}&limit=1000`, headers: { authorization: `Bearer ${read[tenant]}` } });
        expect(res.statusCode).toBe(200);
        const mine = (res.json().logs as { attributes: Record<string, unknown>; body: string }[]).filter((l) => l.attributes['marker'] === markers[tenant]);
        expect(mine.map((l) => l.body).sort()).toEqual(['a\uFFFDb', 'hello', 'y', 'z']);
      }
      expect([...t.service.parts.quarantine.counts.values()].reduce((a, b) => a + b, 0)).toBe(0);
    });
  });
}
