/**
 * `GET /obs/traces` (OBS-2) on the embedded store and on PostgreSQL: traces sent over OTLP are
 * found by service, route, status, duration, one attribute and window, newest first, each
 * summarised from all its stored spans; the guardrails answer 400 with stable codes; another
 * tenant's traces never appear, whatever the filter. The read budget of one search is checked
 * on its own, with a reader that counts what it is asked to read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SEARCH_RECORDS, searchTraces, type TraceSearchReader } from '../../src/obs/trace-search.js';
import type { TraceRequest } from '../../src/segments/signal-records.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const pgUp = await postgresAvailable();
const now = Date.now();
const MIN = 60_000;

const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const id = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');
const attr = (key: string, value: string | number): { key: string; value: Record<string, unknown> } => ({
  key,
  value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
});

interface SpanSpec {
  trace: string;
  span: number;
  parent?: number | string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  error?: boolean;
  attrs?: ReturnType<typeof attr>[];
}

function span(s: SpanSpec): Record<string, unknown> {
  return {
    traceId: s.trace,
    spanId: id(s.span, 8),
    ...(s.parent !== undefined ? { parentSpanId: typeof s.parent === 'string' ? s.parent : id(s.parent, 8) } : {}),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: nanos(s.startMs),
    endTimeUnixNano: nanos(s.startMs + s.durationMs),
    attributes: s.attrs ?? [],
    status: { code: s.error ? 2 : 1 },
  };
}

function body(byService: Record<string, SpanSpec[]>): unknown {
  return { resourceSpans: Object.entries(byService).map(([service, spans]) => ({ resource: { attributes: [attr('service.name', service)] }, scopeSpans: [{ spans: spans.map(span) }] })) };
}

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;
const INTERNAL = 1;

// acme's traces, newest first: D (root not received), C (a failed job), B (health), A (orders → charge, failed), F (slow), and E, three hours old.
const A = id(0xa, 16);
const B = id(0xb, 16);
const C = id(0xc, 16);
const D = id(0xd, 16);
const E = id(0xe, 16);
const F = id(0xf, 16);
// globex's trace, as like acme's as can be.
const G = id(0x6, 16);

const ACME_TRACES = {
  // Two services in two requests: web's half and api's half of trace A arrive apart.
  web: body({
    web: [
      { trace: A, span: 1, name: 'GET /orders', kind: SERVER, startMs: now - 20 * MIN, durationMs: 300, attrs: [attr('http.route', '/orders')] },
      { trace: A, span: 2, parent: 1, name: 'POST', kind: CLIENT, startMs: now - 20 * MIN + 10, durationMs: 250 },
      { trace: B, span: 3, name: 'GET /health', kind: SERVER, startMs: now - 15 * MIN, durationMs: 5, attrs: [attr('http.route', '/health')] },
      { trace: D, span: 4, parent: 'ab'.repeat(8), name: 'GET /orders', kind: SERVER, startMs: now - 5 * MIN, durationMs: 50, attrs: [attr('http.route', '/orders')] },
      { trace: D, span: 5, parent: 4, name: 'cache.get', kind: INTERNAL, startMs: now - 5 * MIN + 1, durationMs: 3, error: true },
      { trace: E, span: 6, name: 'GET /orders', kind: SERVER, startMs: now - 180 * MIN, durationMs: 40, attrs: [attr('http.route', '/orders')] },
      // F: just under 300 ms, which the index (times to about a millisecond) cannot tell from 300.
      { trace: F, span: 12, name: 'GET /slow', kind: SERVER, startMs: now - 30 * MIN, durationMs: 299.6, attrs: [attr('http.route', '/slow')] },
    ],
  }),
  api: body({
    api: [
      { trace: A, span: 7, parent: 2, name: 'POST /charge', kind: SERVER, startMs: now - 20 * MIN + 20, durationMs: 200, error: true, attrs: [attr('http.route', '/charge')] },
      { trace: A, span: 8, parent: 7, name: 'charge.card', kind: INTERNAL, startMs: now - 20 * MIN + 30, durationMs: 100, attrs: [attr('order.id', '42')] },
    ],
    runner: [
      { trace: C, span: 9, name: 'runner.execute', kind: CONSUMER, startMs: now - 10 * MIN, durationMs: 1200, error: true, attrs: [attr('retries', 3)] },
      { trace: C, span: 10, parent: 9, name: 'export.write', kind: INTERNAL, startMs: now - 10 * MIN + 5, durationMs: 1000, attrs: [attr('job.type', 'export')] },
    ],
  }),
};
const GLOBEX_TRACES = body({
  web: [{ trace: G, span: 11, name: 'GET /orders', kind: SERVER, startMs: now - 2 * MIN, durationMs: 2000, error: true, attrs: [attr('http.route', '/orders'), attr('order.id', '42'), attr('retries', 3)] }],
});

interface Engine {
  name: string;
  available: boolean;
  env(): Promise<{ env: Record<string, string>; db?: TestDatabase }>;
}

const engines: Engine[] = [
  { name: 'embedded PGlite', available: true, env: async () => ({ env: {} }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    env: async () => {
      const db = await createTestDatabase();
      return { db, env: { STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole } };
    },
  },
];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`GET /obs/traces on ${engine.name}`, () => {
    let t: ReceiverService;
    let db: TestDatabase | undefined;
    let acme: string;
    let globex: string;

    beforeAll(async () => {
      const started = await engine.env();
      db = started.db;
      t = await startReceiver(started.env, ['--obs-max-window-hours', '6', '--obs-max-results', '50']);
      acme = await t.token('acme', ['stella:obs:read#tenant/acme']);
      globex = await t.token('globex', ['stella:obs:read#tenant/globex']);
      const send = async (tenant: string, payload: unknown): Promise<void> => {
        const write = await t.token(tenant, [`stella:telemetry:write#tenant/${tenant}`]);
        const res = await fetch(`http://127.0.0.1:${t.ports.http}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
        expect(res.status, await res.text()).toBe(200);
      };
      await send('acme', ACME_TRACES.web);
      await send('acme', ACME_TRACES.api);
      await send('globex', GLOBEX_TRACES);
    }, 60_000);

    afterAll(async () => {
      await t?.stop();
      await db?.drop();
    });

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are asserted field by field
    const get = async (url: string, token = acme, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
      const res = await t.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
      return { status: res.statusCode, body: res.json() };
    };
    const ids = async (query: string, token = acme): Promise<string[]> => {
      const res = await get(`/obs/traces${query}`, token);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.traces.map((tr: { trace_id: string }) => tr.trace_id);
    };

    it('lists the window\'s traces newest first, each summarised from all its spans', async () => {
      const res = await get('/obs/traces');
      expect(res.status).toBe(200);
      expect(res.body.traces.map((tr: { trace_id: string }) => tr.trace_id)).toEqual([D, C, B, A, F]);
      expect(res.body).toMatchObject({ truncated: false, limits: { max_window_hours: 6, max_results: 50, max_records_read: MAX_SEARCH_RECORDS }, scan: { complete: true, candidates: 5, examined: 5, records_read: 2 } });
      const [d, c, , a, f] = res.body.traces;
      // A: two services sent apart, one request failed (api's), four spans.
      expect(a).toEqual({
        trace_id: A,
        tenant: 'acme',
        root_span_name: 'GET /orders',
        root_span_received: true,
        service: 'web',
        route: '/orders',
        services: ['api', 'web'],
        start_time: new Date(now - 20 * MIN).toISOString(),
        duration_ms: 300,
        span_count: 4,
        error: true,
        error_span_count: 1,
        trace: `/obs/trace/${A}`,
      });
      // D: the caller's span never arrived; an internal span failed, no request did.
      expect(d).toMatchObject({ root_span_name: 'GET /orders', root_span_received: false, service: 'web', span_count: 2, error: false, error_span_count: 1, duration_ms: 50 });
      expect(c).toMatchObject({ root_span_name: 'runner.execute', service: 'runner', route: null, span_count: 2, error: true, duration_ms: 1200 });
      expect(f).toMatchObject({ root_span_name: 'GET /slow', route: '/slow', duration_ms: 299.6, span_count: 1, error: false });
    });

    it('filters by service, route, status, duration and attribute, each holding somewhere in the trace', async () => {
      expect(await ids('?service=api')).toEqual([A]);
      expect(await ids('?service=web')).toEqual([D, B, A, F]);
      expect(await ids('?route=/orders')).toEqual([D, A]);
      expect(await ids('?route=/charge')).toEqual([A]);
      expect(await ids('?route=runner.execute')).toEqual([C]);
      expect(await ids('?status=error')).toEqual([C, A]);
      expect(await ids('?status=ok')).toEqual([D, B, F]);
      // Exactly: F's 299.6 ms is not 300, A's 300 is.
      expect(await ids('?min_duration_ms=300')).toEqual([C, A]);
      expect(await ids('?min_duration_ms=299')).toEqual([C, A, F]);
      expect(await ids('?min_duration_ms=1000')).toEqual([C]);
      expect(await ids('?route=/orders&status=error&service=api')).toEqual([A]);
      expect(await ids('?route=/orders&status=ok&min_duration_ms=100')).toEqual([]);
      // Attributes of any span, numbers as written, resource attributes too.
      expect(await ids('?attribute=order.id=42')).toEqual([A]);
      expect(await ids('?attribute=retries=3')).toEqual([C]);
      expect(await ids('?attribute=service.name=runner')).toEqual([C]);
      expect(await ids('?attribute=order.id=43')).toEqual([]);
      expect(await ids(`?attribute=${encodeURIComponent('http.route=/orders')}&status=ok`)).toEqual([D]);
      const scanned = await get('/obs/traces?attribute=job.type=export');
      expect(scanned.body).toMatchObject({ truncated: false, scan: { complete: true, candidates: 5, examined: 5 } });
    });

    it('takes the window as from/to or since, the same as the other /obs endpoints', async () => {
      expect(await ids('?since=4h')).toEqual([D, C, B, A, F, E]);
      expect(await ids('?since=12m')).toEqual([D, C]);
      expect(await ids('?since=PT16M')).toEqual([D, C, B]);
      const from = new Date(now - 200 * MIN).toISOString();
      const to = new Date(now - 12 * MIN).toISOString();
      expect(await ids(`?from=${from}&to=${to}`)).toEqual([B, A, F, E]);
      expect(await ids(`?since=45m&to=${to}`)).toEqual([B, A, F]);
      const routes = await get('/obs/routes?since=4h&service=web');
      expect(routes.body.series.find((s: { route: string }) => s.route === '/orders')).toMatchObject({ requests: 3 });
      expect((await get('/obs/routes?since=12m&service=web')).body.series.map((s: { route: string }) => s.route)).toEqual(['/orders']);
    });

    it('answers the guardrails with stable codes', async () => {
      const capped = await get('/obs/traces?limit=2');
      expect(capped.body).toMatchObject({ truncated: true, scan: { complete: true } });
      expect(capped.body.traces.map((tr: { trace_id: string }) => tr.trace_id)).toEqual([D, C]);
      const cappedByAttribute = await get('/obs/traces?limit=1&attribute=service.name=web');
      expect(cappedByAttribute.body).toMatchObject({ truncated: true, traces: [{ trace_id: D }] });

      expect(await get('/obs/traces?limit=51')).toMatchObject({ status: 400, body: { error_code: 'obs.limit_too_large', field: 'query.limit', allowed: { min: 1, max: 50 } } });
      const wide = await get('/obs/traces?since=7h');
      expect(wide).toMatchObject({ status: 400, body: { error_code: 'obs.window_too_wide', field: 'query.since', allowed: { max_window_hours: 6 } } });
      expect(wide.body.message).toMatch(/at most 6 hours/);
      expect(await get(`/obs/traces?from=${new Date(now - 7 * 60 * MIN).toISOString()}`)).toMatchObject({ status: 400, body: { error_code: 'obs.window_too_wide', field: 'query.from' } });
      expect(await get('/obs/traces?since=soon')).toMatchObject({ status: 400, body: { error_code: 'obs.window_invalid', field: 'query.since' } });
      expect(await get(`/obs/traces?since=1h&from=${new Date(now - MIN).toISOString()}`)).toMatchObject({ status: 400, body: { error_code: 'obs.window_invalid', field: 'query.since' } });
      expect(await get('/obs/traces?from=yesterday')).toMatchObject({ status: 400, body: { error_code: 'obs.window_invalid', field: 'query.from' } });
      expect(await get('/obs/traces?attribute==42')).toMatchObject({ status: 400, body: { error_code: 'obs.attribute_invalid', field: 'query.attribute' } });
      expect(await get('/obs/traces?attribute=order.id')).toMatchObject({ status: 400, body: { error_code: 'obs.attribute_invalid' } });
      expect(await get('/obs/traces?status=failed')).toMatchObject({ status: 400, body: { error_code: 'request.invalid' } });
      expect(await get('/obs/traces?min_duration_ms=-1')).toMatchObject({ status: 400, body: { error_code: 'request.invalid', field: 'query.min_duration_ms' } });
      expect(await get('/obs/traces?tenant=globex')).toMatchObject({ status: 400, body: { error_code: 'request.invalid' } });
    });

    it("never shows another tenant's traces, and needs stella:obs:read of the tenant asked for", async () => {
      // globex's one trace matches every filter acme's searches above used; it never appeared there.
      expect(await ids('?since=6h', globex)).toEqual([G]);
      expect(await ids('?attribute=order.id=42&route=/orders&min_duration_ms=2000', globex)).toEqual([G]);
      expect(await ids('?attribute=order.id=42&route=/orders&min_duration_ms=2000')).toEqual([]);
      expect(await ids('?attribute=order.id=42&since=6h')).toEqual([A]);
      expect(await ids('?since=6h&min_duration_ms=2000')).toEqual([]);
      const found = await get('/obs/traces?service=web', globex);
      expect(found.body.traces).toEqual([expect.objectContaining({ trace_id: G, tenant: 'globex', span_count: 1, error: true })]);
      // A globex token asking for acme, and tokens without the scope.
      expect(await get('/obs/traces', globex, { 'x-stella-tenant': 'acme' })).toMatchObject({ status: 403, body: { error_code: 'auth.tenant_denied', required_scope: 'stella:obs:read#tenant/acme' } });
      const writer = await t.token('acme', ['stella:telemetry:write#tenant/acme']);
      expect(await get('/obs/traces', writer)).toMatchObject({ status: 403, body: { error_code: 'auth.scope_denied', required_scope: 'stella:obs:read#tenant/acme' } });
      const anonymous = await t.service.app.inject({ method: 'GET', url: '/obs/traces' });
      expect(anonymous.statusCode).toBe(401);
    });
  });
}

describe('the read budget of one search', () => {
  /** A reader of `traces` candidate traces, each in a record of its own, counting the records it reads. */
  function reader(traces: number, matchEvery: number): TraceSearchReader & { reads: number } {
    const traceIds = Array.from({ length: traces }, (_, i) => id(i + 1, 16));
    const state = {
      reads: 0,
      traceCandidates: async (_tenant: string, search: { limit: number }) => traceIds.slice(0, search.limit).map((trace_id, i) => ({ trace_id, start_ms: now - i })),
      traceRecordRefs: async (_tenant: string, ids: readonly string[]) => new Map(ids.map((trace) => [trace, [{ segment: `traces/${trace}`, offset: 0 }]])),
      readTraceRecord: async (_tenant: string, ref: { segment: string }): Promise<TraceRequest> => {
        state.reads++;
        const trace = ref.segment.slice('traces/'.length);
        const n = parseInt(trace, 16);
        return {
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
              scopeSpans: [
                {
                  spans: [
                    {
                      traceId: Buffer.from(trace, 'hex'),
                      spanId: Buffer.from(id(n, 8), 'hex'),
                      parentSpanId: new Uint8Array(),
                      traceState: '',
                      name: 'GET /x',
                      kind: SERVER,
                      startTimeUnixNano: (now - n) * 1e6,
                      endTimeUnixNano: (now - n + 1) * 1e6,
                      attributes: n % matchEvery === 0 ? [{ key: 'hit', value: { stringValue: 'yes' } }] : [],
                      events: [],
                      links: [],
                    },
                  ],
                },
              ],
            },
          ],
        };
      },
    };
    return state;
  }

  it('stops an attribute search when the budget is spent, and says the scan is incomplete', async () => {
    const r = reader(1500, 1_000_000);
    const result = await searchTraces(r, 'acme', { fromMs: 0, toMs: now, attribute: { key: 'hit', value: 'yes' }, limit: 20 });
    expect(result.traces).toEqual([]);
    expect(result.scan).toEqual({ complete: false, candidates: 1500, examined: MAX_SEARCH_RECORDS, records_read: MAX_SEARCH_RECORDS });
    expect(r.reads).toBe(MAX_SEARCH_RECORDS);
  });

  it('reads no more than it needs: a search without an attribute reads its page only', async () => {
    const r = reader(1500, 1);
    const result = await searchTraces(r, 'acme', { fromMs: 0, toMs: now, limit: 5 });
    expect(result).toMatchObject({ truncated: true, scan: { complete: true, candidates: 6, examined: 5, records_read: 5 } });
    expect(r.reads).toBe(5);
    const matches = await searchTraces(reader(1500, 100), 'acme', { fromMs: 0, toMs: now, attribute: { key: 'hit', value: 'yes' }, limit: 3 });
    expect(matches.traces.map((tr) => parseInt(tr.trace_id, 16))).toEqual([100, 200, 300]);
    expect(matches).toMatchObject({ truncated: true, scan: { complete: true, examined: 400 } });
  });
});
