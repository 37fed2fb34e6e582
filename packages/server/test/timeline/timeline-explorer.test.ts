/**
 * What the Console's Forensics Explorer asks of the timeline, through the HTTP API, on the
 * embedded engine and on PostgreSQL (the saved filters' table is a new migration with
 * row-level security): `GET /timeline` filtered by actor, by a list of kinds and by what an
 * event's trace touched (its own resource or details, or a sibling event of the same trace —
 * never another tenant's); `GET /timeline/:event_id/context` before and after an event, of the
 * tenant, its resource or its trace; saved filters per user and tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, eventually, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';

const pgUp = await postgresAvailable();

interface Engine {
  name: string;
  available: boolean;
  start(): Promise<{ ts: TestService; db?: TestDatabase }>;
}

const engines: Engine[] = [
  { name: 'embedded PGlite', available: true, start: async () => ({ ts: await startTestService() }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    start: async () => {
      const db = await createTestDatabase();
      try {
        return { db, ts: await startTestService({ STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole }) };
      } catch (error) {
        await db.drop();
        throw error;
      }
    },
  },
];

interface Event {
  event_id: string;
  ts: string;
  kind: string;
  actor: string | null;
  resource_type: string | null;
  resource_id: string | null;
  trace_id: string | null;
  tenant_id: string;
}

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);
const TRACE_C = 'c'.repeat(32);
const TRACE_D = 'd'.repeat(32);
const T0 = Date.now() - 2 * 3_600_000;
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString();
const id = (n: number): string => `01900000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * The tenant's events, one a minute in this order (label → event), except t1 and t2 which share
 * one time (so the event id orders them). Trace A: an advisory of the partner feed rejected, then
 * a job failing; trace B: another feed's advisory linked, then a job failing; e5 is a failed job
 * whose resource is the value itself, without a trace; trace C and D: values with LIKE wildcards
 * and quotes in details.
 */
const ACME: Record<string, object> = {
  e1: { event_id: id(1), ts: at(1), kind: 'advisory.rejected', actor: 'svc-concelier', resource_type: 'advisory', resource_id: 'GHSA-1', trace_id: TRACE_A, details: { feed: 'partner-osv', reason: 'signature' } },
  e2: { event_id: id(2), ts: at(2), kind: 'job.failed', actor: 'svc-scheduler', resource_type: 'job', resource_id: 'job-1', trace_id: TRACE_A, details: { exit_code: 1 } },
  e3: { event_id: id(3), ts: at(3), kind: 'advisory.linked', actor: 'svc-concelier', resource_type: 'advisory', resource_id: 'GHSA-2', trace_id: TRACE_B, details: { feed: 'nvd' } },
  e4: { event_id: id(4), ts: at(4), kind: 'job.failed', actor: 'svc-scheduler', resource_type: 'job', resource_id: 'job-2', trace_id: TRACE_B, details: { exit_code: 2 } },
  e5: { event_id: id(5), ts: at(5), kind: 'job.failed', actor: 'svc-scheduler', resource_type: 'job', resource_id: 'partner-osv', trace_id: null, details: {} },
  e6: { event_id: id(6), ts: at(6), kind: 'job.started', actor: 'alice', resource_type: 'job', resource_id: 'job-1', trace_id: null, details: {} },
  e7: { event_id: id(7), ts: at(7), kind: 'audit.test.one', actor: 'alice', resource_type: 'tenant_settings', resource_id: 'acme', trace_id: null, details: {} },
  e8: { event_id: id(8), ts: at(8), kind: 'job.failed', actor: 'svc-runner', resource_type: 'job', resource_id: 'job-3', trace_id: TRACE_C, details: { note: '50% off_coupon' } },
  e9: { event_id: id(9), ts: at(9), kind: 'job.failed', actor: 'svc-runner', resource_type: 'job', resource_id: 'job-4', trace_id: TRACE_D, details: { note: '500 offXcoupon', title: 'say "hi"', pattern: 'regex \\d+' } },
  e10: { event_id: id(10), ts: at(10), kind: 'job.finished', actor: 'svc-runner', resource_type: 'job', resource_id: 'job-1', trace_id: null, details: {} },
  e11: { event_id: id(11), ts: at(11), kind: 'audit.test.two', actor: 'svc-runner', resource_type: 'sbom', resource_id: 'job-1', trace_id: TRACE_A, details: {} },
  t2: { event_id: id(0x22), ts: at(12), kind: 'sbom.ingested', actor: 'svc-scanner', resource_type: 'sbom', resource_id: 'sbom-t', trace_id: null, details: {} },
  t1: { event_id: id(0x21), ts: at(12), kind: 'sbom.ingested', actor: 'svc-scanner', resource_type: 'sbom', resource_id: 'sbom-t', trace_id: null, details: {} },
};
/** Another tenant with trace A too: a feed of its own rejected, and a job failing in the trace. */
const GLOBEX: Record<string, object> = {
  g1: { event_id: id(0x101), ts: at(1), kind: 'advisory.rejected', actor: 'svc-concelier', resource_type: 'advisory', resource_id: 'GHSA-9', trace_id: TRACE_A, details: { feed: 'globex-feed' } },
  g2: { event_id: id(0x102), ts: at(2), kind: 'job.failed', actor: 'svc-scheduler', resource_type: 'job', resource_id: 'job-g', trace_id: TRACE_A, details: {} },
};
const LABEL = new Map([...Object.entries(ACME), ...Object.entries(GLOBEX)].map(([label, e]) => [(e as { event_id: string }).event_id, label]));
const labels = (events: Event[]): string[] => events.map((e) => LABEL.get(e.event_id) ?? e.event_id);

for (const engine of engines) {
  describe.skipIf(!engine.available)(`the Forensics Explorer's timeline API on ${engine.name}`, () => {
    let ts: TestService;
    let db: TestDatabase | undefined;
    let alice: string;
    let bob: string;
    let globex: string;

    const call = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, token: string, payload?: unknown) =>
      ts.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    const page = async (query: string, token = alice): Promise<string[]> => {
      const res = await call('GET', `/timeline?${query}`, token);
      expect(res.statusCode, res.body).toBe(200);
      // Oldest first, to read like the tables above.
      return labels(res.json<{ events: Event[] }>().events).reverse();
    };

    beforeAll(async () => {
      ({ ts, db } = await engine.start());
      alice = await ts.token('acme', ['timeline:read', 'timeline:write'], { subject: 'alice' });
      bob = await ts.token('acme', ['timeline:read'], { subject: 'bob' });
      globex = await ts.token('globex', ['timeline:read', 'timeline:write'], { subject: 'alice' });
      for (const [token, events] of [
        [alice, ACME],
        [globex, GLOBEX],
      ] as const) {
        const res = await call('POST', '/timeline/events', token, { events: Object.values(events) });
        expect(res.statusCode, res.body).toBe(202);
        const want = Object.keys(events).length;
        await eventually(async () => ((await call('GET', '/timeline?limit=1000', token)).json<{ events: unknown[] }>().events.length === want ? true : undefined), 15_000, 'indexing');
      }
    });
    afterAll(async () => {
      await ts?.stop();
      await db?.drop();
    });

    describe('GET /timeline filters', () => {
      it('filters by actor, exactly', async () => {
        expect(await page('actor=alice')).toEqual(['e6', 'e7']);
        expect(await page('actor=svc-runner&kind=job.failed')).toEqual(['e8', 'e9']);
        expect(await page('actor=ali')).toEqual([]);
      });

      it('takes a single kind or prefix as before, and a comma-separated list of up to 8 (any matches)', async () => {
        expect(await page('kind=job.failed')).toEqual(['e2', 'e4', 'e5', 'e8', 'e9']);
        expect(await page('kind=audit.*')).toEqual(['e7', 'e11']);
        expect(await page('kind=job.failed,audit.*')).toEqual(['e2', 'e4', 'e5', 'e7', 'e8', 'e9', 'e11']);
        expect(await page('kind=advisory.*,job.started,job.started,no.such.kind')).toEqual(['e1', 'e3', 'e6']);
        // With the trace or the resource driving, the kinds are a filter on it.
        expect(await page(`kind=job.*,audit.*&trace_id=${TRACE_A}`)).toEqual(['e2', 'e11']);
        expect(await page('kind=job.started,job.finished&resource_id=job-1')).toEqual(['e6', 'e10']);
        // Pages of a list follow the cursor like any page.
        const first = (await call('GET', '/timeline?kind=job.failed,audit.*&limit=4', alice)).json<{ events: Event[]; next_cursor: string }>();
        expect(labels(first.events)).toEqual(['e11', 'e9', 'e8', 'e7']);
        const second = (await call('GET', `/timeline?kind=job.failed,audit.*&limit=4&cursor=${first.next_cursor}`, alice)).json<{ events: Event[]; next_cursor: string | null }>();
        expect(labels(second.events)).toEqual(['e5', 'e4', 'e2']);
        expect(second.next_cursor).toBeNull();
      });

      it('refuses a kind list of more than 8, a malformed one, or a pattern longer than a kind', async () => {
        const nine = Array.from({ length: 9 }, (_, i) => `k${i}.x`).join(',');
        for (const kind of [nine, 'job.failed,', ',job.failed', 'job.failed,,audit.*', 'Job.failed', 'job.*.x', `a.${'b'.repeat(130)}`]) {
          const res = await call('GET', `/timeline?kind=${encodeURIComponent(kind)}`, alice);
          expect({ kind, status: res.statusCode, body: res.json() }).toMatchObject({ kind, status: 400, body: { error_code: 'request.invalid', field: 'query.kind' } });
        }
        expect((await call('GET', `/timeline?kind=${Array.from({ length: 8 }, (_, i) => `k${i}.x`).join(',')}`, alice)).statusCode).toBe(200);
      });

      it('touches: events that name the value, or whose trace has an event that does', async () => {
        // Failed jobs whose trace includes an advisory rejected from the partner feed — e2 by its
        // sibling e1 — and the job whose resource is the value itself (e5).
        expect(await page('kind=job.failed&touches=partner-osv')).toEqual(['e2', 'e5']);
        // Every event of trace A (e1 names it; e2 and e11 share its trace), and e5.
        expect(await page('touches=partner-osv')).toEqual(['e1', 'e2', 'e5', 'e11']);
        // A resource id touches the trace of its event: e4 through e3 (GHSA-2).
        expect(await page('kind=job.failed&touches=GHSA-2')).toEqual(['e4']);
        // Only the tenant's own events count: globex's g1 names globex-feed in trace A too.
        expect(await page('touches=globex-feed')).toEqual([]);
        expect(await page('kind=job.failed&touches=partner-osv', globex)).toEqual([]);
        expect(await page('touches=globex-feed', globex)).toEqual(['g1', 'g2']);
      });

      it('touches takes the value literally: LIKE wildcards, backslashes and quotes match only themselves', async () => {
        expect(await page('touches=off_coupon')).toEqual(['e8']);
        expect(await page(`touches=${encodeURIComponent('50%')}`)).toEqual(['e8']);
        expect(await page(`touches=${encodeURIComponent('5%off')}`)).toEqual([]);
        expect(await page(`touches=${encodeURIComponent('off%coupon')}`)).toEqual([]);
        expect(await page(`touches=${encodeURIComponent('say "hi"')}`)).toEqual(['e9']);
        // As written in the details' JSON text, where quotes and backslashes are escaped: a
        // backslash matches a backslash of a value, not the one escaping a quote.
        expect(await page(`touches=${encodeURIComponent('\\d+')}`)).toEqual(['e9']);
        expect(await page(`touches=${encodeURIComponent('\\')}`)).toEqual(['e9']);
        expect(await page(`touches=${encodeURIComponent('\\"')}`)).toEqual([]);
        expect(await page('touches=signature&kind=advisory.*')).toEqual(['e1']);
        for (const bad of ['', 'x'.repeat(257), '%00', 'a%0Ab']) {
          const res = await call('GET', `/timeline?touches=${bad}`, alice);
          expect({ bad, status: res.statusCode, field: res.json<{ field: string }>().field }).toEqual({ bad, status: 400, field: 'query.touches' });
        }
      });
    });

    describe('GET /timeline/:event_id/context', () => {
      const context = async (label: string, query = '', token = alice) => {
        const eventId = (ACME[label] ?? GLOBEX[label]) as { event_id: string };
        const res = await call('GET', `/timeline/${eventId.event_id}/context${query}`, token);
        return { status: res.statusCode, body: res.json<{ event: Event; before: Event[]; after: Event[]; error_code?: string; field?: string }>() };
      };

      it('answers the events just before and after, oldest first, five each by default', async () => {
        const { status, body } = await context('e7');
        expect(status).toBe(200);
        expect(LABEL.get(body.event.event_id)).toBe('e7');
        expect(body.event).toMatchObject({ kind: 'audit.test.one', tenant_id: 'acme', ingested_at: expect.any(String) });
        expect(labels(body.before)).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
        expect(labels(body.after)).toEqual(['e8', 'e9', 'e10', 'e11', 't1']);
        const narrow = await context('e4', '?before=2&after=1');
        expect([labels(narrow.body.before), labels(narrow.body.after)]).toEqual([['e2', 'e3'], ['e5']]);
        const none = await context('e4', '?before=0&after=0');
        expect([none.body.before, none.body.after]).toEqual([[], []]);
        // At the ends there is less.
        expect(labels((await context('e1', '?before=50')).body.before)).toEqual([]);
        expect(labels((await context('e11', '?after=50')).body.after)).toEqual(['t1', 't2']);
      });

      it('orders events of the same time by event id', async () => {
        const { body } = await context('t1', '?before=1&after=1');
        expect([labels(body.before), labels(body.after)]).toEqual([['e11'], ['t2']]);
        const second = await context('t2', '?before=2');
        expect([labels(second.body.before), labels(second.body.after)]).toEqual([['e11', 't1'], []]);
      });

      it('scope=resource keeps events of the same resource type and id; scope=trace those of its trace', async () => {
        // job/job-1: e2, e6, e10 (e11 is an sbom named job-1: another resource).
        const resource = await context('e6', '?scope=resource');
        expect([labels(resource.body.before), labels(resource.body.after)]).toEqual([['e2'], ['e10']]);
        const trace = await context('e2', '?scope=trace');
        expect([labels(trace.body.before), labels(trace.body.after)]).toEqual([['e1'], ['e11']]);
        // Globex's events of trace A are not acme's.
        expect(labels((await context('e1', '?scope=trace&after=50')).body.after)).toEqual(['e2', 'e11']);
        // Without a trace there is no trace to look in.
        const untraced = await context('e5', '?scope=trace');
        expect(untraced.status).toBe(200);
        expect([untraced.body.before, untraced.body.after]).toEqual([[], []]);
        expect((await context('e4', '?scope=all&before=1&after=1')).body.after.map((e) => LABEL.get(e.event_id))).toEqual(['e5']);
      });

      it("404s another tenant's event like a missing one, with the code of GET /timeline/:event_id", async () => {
        const theirs = await context('g1');
        expect(theirs).toMatchObject({ status: 404, body: { error_code: 'timeline.not_found', field: 'params.event_id' } });
        const missing = await call('GET', `/timeline/${id(0xfff)}/context`, alice);
        expect(missing.statusCode).toBe(404);
        expect(missing.json()).toMatchObject({ error_code: 'timeline.not_found' });
        // The owner sees it.
        expect((await context('g1', '?scope=trace', globex)).body.after.map((e) => LABEL.get(e.event_id))).toEqual(['g2']);
      });

      it('refuses before/after outside 0-50 and an unknown scope', async () => {
        for (const [query, field] of [
          ['?before=51', 'query.before'],
          ['?after=-1', 'query.after'],
          ['?scope=project', 'query.scope'],
          ['?around=3', 'query.around'],
        ] as const) {
          const res = await context('e4', query);
          expect({ query, status: res.status, code: res.body.error_code, field: res.body.field }).toEqual({ query, status: 400, code: 'request.invalid', field });
        }
      });
    });

    describe('saved filters', () => {
      const put = (name: string, query: unknown, token = alice) => call('PUT', `/timeline/filters/${encodeURIComponent(name)}`, token, { query });
      const list = async (token = alice) => {
        const res = await call('GET', '/timeline/filters', token);
        expect(res.statusCode, res.body).toBe(200);
        return res.json<{ filters: { name: string; query: Record<string, string>; created_at: string; updated_at: string }[] }>().filters;
      };

      it('creates (201), replaces (200), lists by name and deletes (204) the caller’s filters', async () => {
        expect(await list()).toEqual([]);
        const created = await put('Failed jobs - partner feed', { kind: 'job.failed', touches: 'partner-osv', window: '60' });
        expect(created.statusCode, created.body).toBe(201);
        const saved = created.json<{ name: string; query: Record<string, string>; created_at: string; updated_at: string }>();
        expect(saved).toEqual({ name: 'Failed jobs - partner feed', query: { kind: 'job.failed', touches: 'partner-osv', window: '60' }, created_at: expect.any(String), updated_at: saved.created_at });
        expect((await put('audit', { kind: 'audit.*,job.failed', actor: 'alice' })).statusCode).toBe(201);
        expect((await put('Zeta.1_x', {})).statusCode).toBe(201);
        const replaced = await put('audit', { kind: 'audit.*', resource_type: 'tenant_settings', resource_id: 'acme', project: 'p1', trace_id: TRACE_A });
        expect(replaced.statusCode).toBe(200);
        const after = replaced.json<{ query: Record<string, string>; created_at: string; updated_at: string }>();
        expect(after.query).toEqual({ kind: 'audit.*', resource_type: 'tenant_settings', resource_id: 'acme', project: 'p1', trace_id: TRACE_A });
        expect(Date.parse(after.updated_at)).toBeGreaterThanOrEqual(Date.parse(after.created_at));
        // Sorted by name, byte order: upper case first.
        expect((await list()).map((f) => f.name)).toEqual(['Failed jobs - partner feed', 'Zeta.1_x', 'audit']);
        expect((await list()).find((f) => f.name === 'audit')).toEqual({ name: 'audit', ...after });
        const deleted = await call('DELETE', '/timeline/filters/Zeta.1_x', alice);
        expect(deleted.statusCode).toBe(204);
        expect(deleted.body).toBe('');
        expect((await list()).map((f) => f.name)).toEqual(['Failed jobs - partner feed', 'audit']);
        const again = await call('DELETE', '/timeline/filters/Zeta.1_x', alice);
        expect(again.statusCode).toBe(404);
        expect(again.json()).toMatchObject({ error_code: 'timeline.filter_not_found', field: 'params.name' });
      });

      it('keeps each user’s filters to themselves, and each tenant’s', async () => {
        expect(await list(bob)).toEqual([]);
        expect((await put('audit', { kind: 'job.*' }, bob)).statusCode).toBe(201);
        expect((await list(bob)).map((f) => [f.name, f.query])).toEqual([['audit', { kind: 'job.*' }]]);
        // Alice's filter of the same name is untouched, and bob cannot delete hers.
        expect((await list()).find((f) => f.name === 'audit')!.query['kind']).toBe('audit.*');
        expect((await call('DELETE', `/timeline/filters/${encodeURIComponent('Failed jobs - partner feed')}`, bob)).statusCode).toBe(404);
        // The same subject in another tenant has another list.
        expect(await list(globex)).toEqual([]);
        expect((await call('DELETE', '/timeline/filters/audit', globex)).statusCode).toBe(404);
        expect((await call('DELETE', '/timeline/filters/audit', bob)).statusCode).toBe(204);
        expect((await list()).map((f) => f.name)).toEqual(['Failed jobs - partner feed', 'audit']);
      });

      it('validates the name and every value with the rules of GET /timeline, naming the field', async () => {
        const cases: [string, unknown, string][] = [
          [' lead', {}, 'params.name'],
          ['trail ', {}, 'params.name'],
          ['x'.repeat(65), {}, 'params.name'],
          ['a/b', {}, 'params.name'],
          ['tab\there', {}, 'params.name'],
          ['ok', { from: '2025-01-01T00:00:00Z' }, 'body.query.from'],
          ['ok', { limit: '5' }, 'body.query.limit'],
          ['ok', { kind: 'Job.Failed' }, 'body.query.kind'],
          ['ok', { kind: Array.from({ length: 9 }, (_, i) => `k${i}`).join(',') }, 'body.query.kind'],
          ['ok', { kind: `a.${'b'.repeat(130)}` }, 'body.query.kind'],
          ['ok', { trace_id: 'xyz' }, 'body.query.trace_id'],
          ['ok', { actor: '' }, 'body.query.actor'],
          ['ok', { touches: 'x'.repeat(257) }, 'body.query.touches'],
          ['ok', { resource_id: 'a\u0000b' }, 'body.query.resource_id'],
          ['ok', { window: '0' }, 'body.query.window'],
          ['ok', { window: '1.5' }, 'body.query.window'],
          ['ok', { window: '5256001' }, 'body.query.window'],
          ['ok', { kind: { prefix: 'job' } }, 'body.query.kind'],
        ];
        for (const [name, query, field] of cases) {
          const res = await put(name, query);
          expect({ name, query, status: res.statusCode, body: res.json() }).toMatchObject({ name, query, status: 400, body: { error_code: 'request.invalid', field } });
        }
        const noQuery = await call('PUT', '/timeline/filters/ok', alice, { kind: 'job.failed' });
        expect(noQuery.statusCode).toBe(400);
        expect((await put('ok', { window: '5256000' })).statusCode).toBe(201);
        expect((await call('DELETE', '/timeline/filters/ok', alice)).statusCode).toBe(204);
      });

      it('keeps at most 100 filters per user and tenant: 409 timeline.filter_limit, while replacing still works', async () => {
        const existing = (await list()).length;
        for (let i = existing; i < 100; i++) expect((await put(`f${String(i).padStart(3, '0')}`, { kind: 'job.failed' })).statusCode).toBe(201);
        expect(await list()).toHaveLength(100);
        const over = await put('one too many', { kind: 'job.failed' });
        expect(over.statusCode).toBe(409);
        expect(over.json()).toMatchObject({ error_code: 'timeline.filter_limit', allowed: { max_filters: 100 } });
        expect((await put('audit', { kind: 'audit.test.*' })).statusCode).toBe(200);
        // Another user of the tenant has their own hundred.
        expect((await put('one too many', {}, bob)).statusCode).toBe(201);
        expect((await call('DELETE', '/timeline/filters/f099', alice)).statusCode).toBe(204);
        expect((await put('one too many', { kind: 'job.failed' })).statusCode).toBe(201);
      });

      it('is served at /timeline/filters, never taken for an event id', async () => {
        const res = await call('GET', '/timeline/filters', alice);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toHaveProperty('filters');
        // An event id still reaches the event route.
        expect((await call('GET', `/timeline/${id(1)}`, alice)).statusCode).toBe(200);
        // A token without timeline:read may not manage filters.
        const noRead = await ts.token('acme', ['timeline:write'], { subject: 'alice' });
        expect((await call('GET', '/timeline/filters', noRead)).json()).toMatchObject({ error_code: 'auth.scope_denied', required_scope: 'stella:timeline:read#tenant/acme' });
      });

      it("keeps the saved filters' rows to their tenant under row-level security", async () => {
        const store = ts.service.store;
        const globexRows = await store.tenantTransaction('globex', async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_saved_filters')).rows[0]!.n);
        expect(globexRows).toBe(0);
        const noTenant = await store.tenantTransaction(null, async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_saved_filters')).rows[0]!.n);
        expect(noTenant).toBe(0);
        await expect(
          store.tenantTransaction('globex', (tx) =>
            tx.query(`INSERT INTO timeline_saved_filters (tenant_id, subject, name, query, created_at, updated_at) VALUES ('acme', 'mallory', 'x', '{}', now(), now())`),
          ),
        ).rejects.toThrow(/row-level security/);
      });
    });
  });
}
