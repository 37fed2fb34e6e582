/**
 * `GET /timeline` against a reference model, on the embedded engine and PostgreSQL: every
 * combination of filters, walked page by page with the cursor, must give exactly the events a
 * plain filter-and-sort over what was stored gives, newest first with event_id breaking ties.
 * The kinds sit on the edges of a prefix (`audit.*` against `audit_x`, `audit-x`, `auditx`,
 * `audit`), several kinds share a prefix (merged streams), and one prefix has more kinds than
 * a page merges (the kind becomes a filter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTimelineEvent, type TimelineEvent } from '@stellaops/telemetry-core';
import type { TimelineRuntime } from '../src/index.js';
import { createTestDatabase, postgresAvailable } from './helpers/external.js';
import { startTestService, type TestService } from './helpers/service.js';

const pgUp = await postgresAvailable();

const TENANT = 'pages';
const BASE = Date.parse('2025-06-01T00:00:00.000Z');
const WINDOW = { from: '2025-05-31T00:00:00.000Z', to: '2025-06-02T00:00:00.000Z' };
const EDGE_KINDS = ['audit.a', 'audit.b.c', 'audit_x', 'auditx', 'audit-x', 'audit', 'audita.b', 'job.started', 'job.finished', 'policy.evaluated'];
const BULK_KINDS = Array.from({ length: 70 }, (_, i) => `bulk.k${String(i).padStart(2, '0')}`);
const TRACE_1 = '1'.repeat(32);
const TRACE_2 = '2'.repeat(32);
/** Details whose JSON round trip could go wrong: escapes, non-ASCII, numbers, nesting. */
const DETAILS = { quote: 'a "b" \\ c\n\t\u0001', text: 'Zoë ✓ 😀', big: 12345678901234, float: 0.1, neg: -2.5e-7, nested: { list: [1, 'two', null, true], empty: {} } };

/** Events with colliding timestamps (ties broken by event_id), over every filter value. */
function fixture(tenant: string): TimelineEvent[] {
  const resources: [string | null, string | null][] = [
    [null, null],
    ['sbom', 's1'],
    ['job', 's1'],
    ['job', 'j2'],
  ];
  const events: TimelineEvent[] = [];
  for (let i = 0; i < 600; i++) {
    const [resource_type, resource_id] = resources[i % 4]!;
    events.push(
      buildTimelineEvent({
        tenant_id: tenant,
        kind: EDGE_KINDS[(i * 7) % EDGE_KINDS.length]!,
        ts: new Date(BASE + (i % 97) * 1000).toISOString(),
        project_id: [null, 'p1', 'p2'][i % 3]!,
        resource_type,
        resource_id,
        trace_id: [null, TRACE_1, TRACE_2][(i >> 2) % 3]!,
        details: i % 5 === 0 ? DETAILS : { n: i },
      }),
    );
  }
  BULK_KINDS.forEach((kind, i) => events.push(buildTimelineEvent({ tenant_id: tenant, kind, ts: new Date(BASE + i * 500).toISOString(), project_id: 'p1' })));
  return events;
}

interface Query {
  kind?: string;
  project?: string;
  resource_type?: string;
  resource_id?: string;
  trace_id?: string;
  from: string;
  to: string;
}

function expected(events: readonly TimelineEvent[], q: Query): string[] {
  const prefix = q.kind?.endsWith('.*') ? q.kind.slice(0, -1) : undefined;
  return events
    .filter(
      (e) =>
        e.ts >= q.from &&
        e.ts <= q.to &&
        (q.kind === undefined || (prefix !== undefined ? e.kind.startsWith(prefix) : e.kind === q.kind)) &&
        (q.project === undefined || e.project_id === q.project) &&
        (q.resource_type === undefined || e.resource_type === q.resource_type) &&
        (q.resource_id === undefined || e.resource_id === q.resource_id) &&
        (q.trace_id === undefined || e.trace_id === q.trace_id),
    )
    .sort((a, b) => (a.ts === b.ts ? (a.event_id < b.event_id ? 1 : -1) : a.ts < b.ts ? 1 : -1))
    .map((e) => e.event_id);
}

function queries(): Query[] {
  const out: Query[] = [];
  const kinds = [undefined, 'audit.*', 'audit', 'audit_x', 'audit_x.*', 'audit.b.*', 'job.*', 'policy.evaluated', 'bulk.*', 'nothing.*'];
  const resources: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    [undefined, 's1'],
    ['job', undefined],
    ['job', 's1'],
  ];
  for (const kind of kinds) {
    for (const project of [undefined, 'p1']) {
      for (const [resource_type, resource_id] of resources) {
        for (const trace_id of [undefined, TRACE_1]) out.push({ kind, project, resource_type, resource_id, trace_id, ...WINDOW });
      }
    }
  }
  // Windows that cut through timestamps shared by several events.
  out.push({ ...WINDOW, from: new Date(BASE + 10_000).toISOString(), to: new Date(BASE + 20_000).toISOString() });
  out.push({ kind: 'audit.*', ...WINDOW, from: new Date(BASE + 10_000).toISOString(), to: new Date(BASE + 20_000).toISOString() });
  out.push({ kind: 'bulk.*', ...WINDOW, from: new Date(BASE + 5_000).toISOString(), to: new Date(BASE + 6_000).toISOString() });
  return out;
}

const engines = [
  { name: 'embedded PGlite', available: true, env: async () => ({ env: {}, drop: async () => undefined }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    env: async () => {
      const db = await createTestDatabase();
      return { env: { STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole }, drop: () => db.drop() };
    },
  },
];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`timeline pages against a reference model on ${engine.name}`, () => {
    let ts: TestService;
    let drop: () => Promise<void> = async () => undefined;
    let token: string;
    const events = fixture(TENANT);

    beforeAll(async () => {
      const db = await engine.env();
      drop = db.drop;
      ts = await startTestService(db.env);
      const { repository } = ts.service.features.get('timeline') as TimelineRuntime;
      await repository.insertBatch(TENANT, events);
      // The same events in another tenant must never show.
      await repository.insertBatch('pages-neighbour', fixture('pages-neighbour'));
      token = await ts.token(TENANT, ['timeline:read']);
    }, 60_000);
    afterAll(async () => {
      await ts?.stop();
      await drop();
    });

    async function walk(q: Query, limit: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const params = new URLSearchParams({ limit: String(limit) });
        for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
        if (cursor) params.set('cursor', cursor);
        const res = await ts.service.app.inject({ method: 'GET', url: `/timeline?${params}`, headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json<{ events: TimelineEvent[]; next_cursor: string | null }>();
        expect(page.events.length).toBeLessThanOrEqual(limit);
        expect(page.events.every((e) => e.tenant_id === TENANT)).toBe(true);
        ids.push(...page.events.map((e) => e.event_id));
        cursor = page.next_cursor;
        if (cursor) {
          // The cursor is the (ts, event_id) of the page's last event, base64url JSON.
          const last = page.events[page.events.length - 1]!;
          expect(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).toEqual([last.ts, last.event_id]);
        }
        pages++;
      } while (cursor && pages < 500);
      return { ids, pages };
    }

    it('gives every filter combination exactly the reference events, in order, page by page', async () => {
      for (const q of queries()) {
        const want = expected(events, q);
        const { ids, pages } = await walk(q, 9);
        expect(ids, JSON.stringify(q)).toEqual(want);
        // A full last page is followed by one empty page, as before: the cursor is issued when more rows may follow.
        expect(pages, JSON.stringify(q)).toBe(Math.max(1, Math.ceil(want.length / 9)));
        expect((await walk(q, 1000)).ids, JSON.stringify(q)).toEqual(want);
      }
    }, 120_000);

    it('serves each event as stored: every field, details and timestamps included', async () => {
      const res = await ts.service.app.inject({ method: 'GET', url: `/timeline?limit=1000&from=${WINDOW.from}&to=${WINDOW.to}`, headers: { authorization: `Bearer ${token}` } });
      const served = res.json<{ events: (TimelineEvent & { ingested_at: string })[] }>().events;
      const byId = new Map(events.map((e) => [e.event_id, e]));
      expect(served).toHaveLength(events.length);
      for (const { ingested_at, ...event } of served) {
        expect(event).toEqual(byId.get(event.event_id));
        expect(ingested_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      expect(served.filter((e) => e.details['quote'] !== undefined)).toHaveLength(events.filter((e) => e.details['quote'] !== undefined).length);
    });

    it('reads a kind prefix as the kinds that start with it, byte for byte', async () => {
      const kindsOf = async (kind: string): Promise<string[]> => {
        const { ids } = await walk({ kind, ...WINDOW }, 1000);
        return [...new Set(ids.map((id) => events.find((e) => e.event_id === id)!.kind))].sort();
      };
      expect(await kindsOf('audit.*')).toEqual(['audit.a', 'audit.b.c']);
      expect(await kindsOf('audit.b.*')).toEqual(['audit.b.c']);
      expect(await kindsOf('audit_x.*')).toEqual([]);
      expect(await kindsOf('audit')).toEqual(['audit']);
      expect(await kindsOf('bulk.*')).toEqual(BULK_KINDS);
    });
  });
}
