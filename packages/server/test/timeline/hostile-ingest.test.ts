/**
 * "A 202 means preserved", under attack: hostile events (years 0000 and 10000, NUL and lone
 * surrogates in keys, values and text fields, hostile nesting, huge strings) sent to
 * POST /timeline/events by one tenant while another tenant ingests. Each hostile request is
 * refused whole with a 400 naming the event and field; every event of the other tenant is
 * stored and readable; nothing of a refused request is stored; the service stays up. On the
 * embedded engine and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, eventually, postgresAvailable } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';

const pgUp = await postgresAvailable();

interface Engine {
  name: string;
  available: boolean;
  start(): Promise<{ ts: TestService; cleanup(): Promise<void> }>;
}

const engines: Engine[] = [
  { name: 'embedded PGlite', available: true, start: async () => ({ ts: await startTestService(), cleanup: async () => undefined }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    start: async () => {
      const db = await createTestDatabase();
      try {
        const ts = await startTestService({ STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole });
        return { ts, cleanup: () => db.drop() };
      } catch (error) {
        await db.drop();
        throw error;
      }
    },
  },
];

function nested(depth: number): Record<string, unknown> {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { n: value };
  return value as Record<string, unknown>;
}

/** A hostile event, the field a 400 must name (a prefix: the schema may name a deeper member), and what the message says. */
interface Hostile {
  name: string;
  event: Record<string, unknown> | string;
  field: string;
  message: RegExp;
}

const HOSTILE: Hostile[] = [
  { name: 'year 0000', event: { kind: 'sbom.ingested', ts: '0000-01-01T00:00:00Z' }, field: 'body.events[1].ts', message: /1970|date-time/ },
  { name: 'year 10000', event: { kind: 'sbom.ingested', ts: '10000-01-01T00:00:00Z' }, field: 'body.events[1].ts', message: /1970|date-time/ },
  { name: 'before 1970', event: { kind: 'sbom.ingested', ts: '1969-12-31T23:59:59Z' }, field: 'body.events[1].ts', message: /1970/ },
  { name: 'NUL in a details value', event: { kind: 'sbom.ingested', details: { note: 'a\u0000b' } }, field: 'body.events[1].details', message: /NUL/ },
  { name: 'NUL in a details key', event: { kind: 'sbom.ingested', details: { outer: { 'k\u0000': 1 } } }, field: 'body.events[1].details', message: /NUL/ },
  { name: 'lone high surrogate in a value', event: { kind: 'sbom.ingested', details: { list: ['ok', '\ud800'] } }, field: 'body.events[1].details', message: /surrogate/ },
  { name: 'lone low surrogate in a key', event: { kind: 'sbom.ingested', details: { '\udc00': 'x' } }, field: 'body.events[1].details', message: /surrogate/ },
  { name: 'lone surrogate in resource_id', event: { kind: 'sbom.ingested', resource_id: 'sbom-\ud83d' }, field: 'body.events[1].resource_id', message: /surrogate/ },
  { name: 'NUL in actor', event: { kind: 'sbom.ingested', actor: 'svc\u0000' }, field: 'body.events[1].actor', message: /NUL|control|printable/ },
  { name: 'NUL in kind', event: { kind: 'sbom\u0000.ingested' }, field: 'body.events[1].kind', message: /./ },
  { name: 'nesting 40 levels', event: { kind: 'sbom.ingested', details: nested(40) }, field: 'body.events[1].details', message: /levels|deep|depth|nest/ },
  {
    name: 'nesting 50,000 levels',
    event: `{"kind":"sbom.ingested","details":{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
    field: 'body.events[1].details',
    message: /levels|deep|depth|nest/,
  },
  { name: 'a 200 kB string in details', event: { kind: 'sbom.ingested', details: { blob: 'x'.repeat(200_000) } }, field: 'body.events[1].details', message: /bytes|long|large/ },
  { name: 'a 100 kB resource_id', event: { kind: 'sbom.ingested', resource_id: 'r'.repeat(100_000) }, field: 'body.events[1].resource_id', message: /512|long/ },
];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`hostile timeline ingest on ${engine.name}`, () => {
    let ts: TestService;
    let cleanup: () => Promise<void>;
    let acme: string;
    let globex: string;

    beforeAll(async () => {
      ({ ts, cleanup } = await engine.start());
      acme = await ts.token('acme', ['timeline:read', 'timeline:write']);
      globex = await ts.token('globex', ['timeline:read', 'timeline:write']);
    });
    afterAll(async () => {
      await ts?.stop();
      await cleanup?.();
    });

    const post = (token: string, payload: string) =>
      ts.service.app.inject({ method: 'POST', url: '/timeline/events', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload });

    async function readAll(token: string): Promise<Map<string, { digest: string; resource_id: string | null }>> {
      const out = new Map<string, { digest: string; resource_id: string | null }>();
      let cursor: string | null = null;
      do {
        const res: { statusCode: number; body: string; json<T>(): T } = await ts.service.app.inject({
          method: 'GET',
          url: `/timeline?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.statusCode, res.body).toBe(200);
        const page: { events: { event_id: string; digest: string; resource_id: string | null }[]; next_cursor: string | null } = res.json();
        for (const e of page.events) out.set(e.event_id, { digest: e.digest, resource_id: e.resource_id });
        cursor = page.next_cursor;
      } while (cursor);
      return out;
    }

    it('refuses each hostile request whole with a 400 naming the field, while the other tenant’s events are all stored', async () => {
      const good = (tag: string) => JSON.stringify({ kind: 'sbom.ingested', resource_type: 'sbom', resource_id: tag, details: { tag } });
      const hostileRequests = HOSTILE.map((h, i) =>
        post(acme, `{"events":[${good(`acme-refused-${i}-a`)},${typeof h.event === 'string' ? h.event : JSON.stringify(h.event)},${good(`acme-refused-${i}-b`)}]}`),
      );
      const accepted: { event_id: string; digest: string }[] = [];
      const globexRequests = Array.from({ length: 20 }, async (_, r) => {
        const events = Array.from({ length: 50 }, (_, k) => ({ kind: 'policy.evaluated', resource_type: 'sbom', resource_id: `globex-${r}-${k}`, details: { r, k, note: 'ünïcödé 🔥' } }));
        const res = await post(globex, JSON.stringify({ events }));
        expect(res.statusCode, res.body).toBe(202);
        accepted.push(...res.json<{ events: { event_id: string; digest: string }[] }>().events);
      });
      const [answers] = await Promise.all([Promise.all(hostileRequests), Promise.all(globexRequests)]);

      answers.forEach((res, i) => {
        const h = HOSTILE[i]!;
        expect(res.statusCode, `${h.name}: ${res.body}`).toBe(400);
        const body = res.json<{ error_code: string; message: string; field?: string }>();
        expect(body.field, h.name).toBeDefined();
        expect(body.field!.startsWith(h.field), `${h.name}: field ${body.field}`).toBe(true);
        expect(body.message, h.name).toMatch(h.message);
        expect(['timeline.event_invalid', 'timeline.kind_invalid', 'timeline.details_too_large', 'request.invalid'], h.name).toContain(body.error_code);
      });

      expect(accepted).toHaveLength(1000);
      const stored = await eventually(
        async () => {
          const all = await readAll(globex);
          return accepted.every((a) => all.has(a.event_id)) ? all : undefined;
        },
        60_000,
        'every accepted globex event readable',
      );
      for (const a of accepted) expect(stored.get(a.event_id)!.digest).toBe(a.digest);

      // The service is up, and acme's next good request is stored; nothing of its refused ones is.
      expect((await ts.service.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const ok = await post(acme, `{"events":[${good('acme-after')}]}`);
      expect(ok.statusCode, ok.body).toBe(202);
      const afterId = ok.json<{ events: { event_id: string }[] }>().events[0]!.event_id;
      const acmeEvents = await eventually(async () => {
        const all = await readAll(acme);
        return all.has(afterId) ? all : undefined;
      }, 30_000, 'acme event after the hostile ones');
      expect([...acmeEvents.values()].filter((e) => e.resource_id?.startsWith('acme-refused-'))).toEqual([]);

      // Nothing needed quarantining: every refused event was refused before the 202.
      const runtime = ts.service.features.get('timeline') as { quarantine: { list(t: string): Promise<unknown[]> } };
      expect(await runtime.quarantine.list('acme')).toEqual([]);
      expect(await runtime.quarantine.list('globex')).toEqual([]);
    });
  });
}
