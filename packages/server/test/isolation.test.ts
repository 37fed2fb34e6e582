/**
 * Tenant isolation (AUTH-3, TL-3), the same suite against the embedded engine and PostgreSQL:
 * through every API and through direct SQL as the application role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgliteStore, CORE_MIGRATIONS } from '../src/index.js';
import { createTestDatabase, eventually, postgresAvailable, type TestDatabase } from './helpers/external.js';
import { startTestService, type TestService } from './helpers/service.js';

const pgUp = await postgresAvailable();

interface Engine {
  name: string;
  available: boolean;
  start(): Promise<{ ts: TestService; cleanup(): Promise<void>; db?: TestDatabase }>;
}

const engines: Engine[] = [
  { name: 'embedded PGlite', available: true, start: async () => ({ ts: await startTestService(), cleanup: async () => undefined }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    start: async () => {
      const db = await createTestDatabase();
      try {
        const ts = await startTestService({
          STELLA_DATABASE_URL: db.appUrl,
          STELLA_DATABASE_OWNER_URL: db.ownerUrl,
          STELLA_DATABASE_APP_ROLE: db.appRole,
        });
        return { ts, db, cleanup: () => db.drop() };
      } catch (error) {
        await db.drop();
        throw error;
      }
    },
  },
];

// Every table holding tenant data, found in the catalogue so tables of later features are covered.
// `tenants` lists tenant ids only and is readable by design (see docs/rbac.md).
async function tenantTables(ts: TestService): Promise<string[]> {
  const rows = await ts.service.store.tenantTransaction(null, async (tx) =>
    (
      await tx.query<{ relname: string }>(
        `SELECT c.relname FROM pg_class c
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
          WHERE c.relkind IN ('r', 'p') AND c.relname <> 'tenants' ORDER BY 1`,
      )
    ).rows,
  );
  return rows.map((r) => r.relname);
}
const TRACE_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

for (const engine of engines) {
  describe.skipIf(!engine.available)(`tenant isolation on ${engine.name}`, () => {
    let ts: TestService;
    let cleanup: () => Promise<void>;
    let db: TestDatabase | undefined;
    let tokenA: string;
    let tokenB: string;
    const aIds: string[] = [];

    const get = (url: string, token: string, headers: Record<string, string> = {}) =>
      ts.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });

    beforeAll(async () => {
      ({ ts, cleanup, db } = await engine.start());
      tokenA = await ts.token('tenant-a', ['timeline:read', 'timeline:write', 'timeline:admin']);
      tokenB = await ts.token('tenant-b', ['timeline:read', 'timeline:write', 'timeline:admin']);
      for (const [token, tenant, n] of [
        [tokenA, 'a', 5],
        [tokenB, 'b', 3],
      ] as const) {
        const res = await ts.service.app.inject({
          method: 'POST',
          url: '/timeline/events',
          headers: { authorization: `Bearer ${token}` },
          payload: {
            events: Array.from({ length: n }, (_, i) => ({
              kind: 'sbom.ingested',
              resource_type: 'sbom',
              resource_id: `sbom-${tenant}-${i}`,
              project_id: `proj-${tenant}`,
              trace_id: tenant === 'a' ? TRACE_A : undefined,
              details: { n: i },
            })),
          },
        });
        expect(res.statusCode).toBe(202);
        if (tenant === 'a') aIds.push(...res.json<{ events: { event_id: string }[] }>().events.map((e) => e.event_id));
      }
      await ts.service.app.inject({ method: 'PUT', url: '/timeline/retention', headers: { authorization: `Bearer ${tokenA}` }, payload: { retention_days: 90 } });
      // Wait for the indexer: 5 + 1 audit events for A, 3 for B.
      for (const [token, want] of [
        [tokenA, 6],
        [tokenB, 3],
      ] as const) {
        await eventually(async () => ((await get('/timeline', token)).json<{ events: unknown[] }>().events.length === want ? true : undefined), 15_000, 'indexing');
      }
    });

    afterAll(async () => {
      await ts?.stop();
      await cleanup?.();
    });

    it("lists only the caller's tenant", async () => {
      const b = (await get('/timeline', tokenB)).json<{ events: { tenant_id: string; resource_id: string }[] }>();
      expect(b.events).toHaveLength(3);
      expect(new Set(b.events.map((e) => e.tenant_id))).toEqual(new Set(['tenant-b']));
    });

    it("never returns another tenant's event, whatever the query", async () => {
      for (const id of aIds) expect((await get(`/timeline/${id}`, tokenB)).statusCode).toBe(404);
      for (const q of [`resource_id=sbom-a-0`, `trace_id=${TRACE_A}`, `project=proj-a`, `kind=audit.*`, `resource_type=sbom&resource_id=sbom-a-1`]) {
        const res = await get(`/timeline?${q}`, tokenB);
        expect(res.statusCode).toBe(200);
        expect(res.json<{ events: unknown[] }>().events).toEqual([]);
      }
      const retention = (await get('/timeline/retention', tokenB)).json<{ retention_days: number; source: string }>();
      expect(retention).toMatchObject({ tenant_id: 'tenant-b', retention_days: 180, source: 'default' });
      // The owner of the data sees it through the same queries.
      expect((await get(`/timeline?trace_id=${TRACE_A}`, tokenA)).json<{ events: unknown[] }>().events).toHaveLength(5);
      expect((await get(`/timeline/${aIds[0]}`, tokenA)).statusCode).toBe(200);
    });

    it('refuses a token of one tenant asking for another with the header', async () => {
      const res = await get('/timeline', tokenB, { 'x-stella-tenant': 'tenant-a' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error_code: 'auth.tenant_denied', required_scope: 'stella:timeline:read#tenant/tenant-a', tenant: 'tenant-a' });
      expect(res.body).not.toContain('sbom-a');
    });

    it("refuses an ingest that names another tenant's id in the body", async () => {
      const res = await ts.service.app.inject({
        method: 'POST',
        url: '/timeline/events',
        headers: { authorization: `Bearer ${tokenB}` },
        payload: { events: [{ kind: 'x.y', tenant_id: 'tenant-a' }] },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error_code: 'timeline.tenant_mismatch' });
    });

    it('shows a tenant only its own rows through direct SQL as the application role', async () => {
      const store = ts.service.store;
      for (const table of await tenantTables(ts)) {
        const rows = await store.tenantTransaction('tenant-b', async (tx) => (await tx.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${table}`)).rows);
        expect(rows.every((r) => r.tenant_id === 'tenant-b')).toBe(true);
      }
      const leaked = await store.tenantTransaction('tenant-b', async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM timeline_events WHERE tenant_id = 'tenant-a'`)).rows[0]!.n);
      expect(leaked).toBe(0);
      const own = await store.tenantTransaction('tenant-a', async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM timeline_events`)).rows[0]!.n);
      expect(own).toBe(6);
    });

    it('returns zero rows when no tenant is set', async () => {
      const tables = await tenantTables(ts);
      expect(tables).toEqual(expect.arrayContaining(['attestations', 'evidence_bundles', 'tenant_settings', 'timeline_events']));
      for (const table of tables) {
        const n = await ts.service.store.tenantTransaction(null, async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n);
        expect(n).toBe(0);
      }
    });

    it("rejects inserts for another tenant, and inserts without a tenant", async () => {
      const insert = (tenant: string | null, rowTenant: string) =>
        ts.service.store.tenantTransaction(tenant, (tx) =>
          tx.query(
            `INSERT INTO timeline_events (tenant_id, event_id, ts, kind, digest) VALUES ($1, gen_random_uuid(), now(), 'x.y', 'sha256:00')`,
            [rowTenant],
          ),
        );
      await expect(insert('tenant-b', 'tenant-a')).rejects.toThrow(/row-level security/);
      await expect(insert(null, 'tenant-a')).rejects.toThrow(/row-level security/);
      await expect(
        ts.service.store.tenantTransaction('tenant-b', (tx) =>
          tx.query(`INSERT INTO evidence_bundles (tenant_id, id, kind, root_hash, path) VALUES ('tenant-a', 'b1', 'k', 'h', 'p')`),
        ),
      ).rejects.toThrow(/row-level security/);
    });

    it('keeps the timeline append-only for the application role', async () => {
      await expect(ts.service.store.tenantTransaction('tenant-a', (tx) => tx.query(`UPDATE timeline_events SET kind = 'tampered'`))).rejects.toThrow(/permission denied/);
    });

    it('runs as a role without SUPERUSER or BYPASSRLS, with RLS forced on every tenant table', async () => {
      const me = await ts.service.store.tenantTransaction(null, async (tx) =>
        (await tx.query<{ rolsuper: boolean; rolbypassrls: boolean }>(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`)).rows[0],
      );
      expect(me).toEqual({ rolsuper: false, rolbypassrls: false });
      const tables = await ts.service.store.tenantTransaction(null, async (tx) =>
        (
          await tx.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
            `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
               JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
              WHERE c.relkind IN ('r', 'p')`,
          )
        ).rows,
      );
      // Later features add tables; each one with a tenant_id must carry forced RLS too.
      expect(tables.map((t) => t.relname)).toEqual(expect.arrayContaining(['attestations', 'evidence_bundles', 'tenant_settings', 'tenants', 'timeline_events']));
      for (const t of tables) expect(t, t.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    });

    if (engine.name === 'PostgreSQL') it('isolates a plain pg client logged in as the application role', async () => {
      const client = new pg.Client({ connectionString: db!.appUrl });
      await client.connect();
      try {
        expect((await client.query(`SELECT count(*)::int AS n FROM timeline_events`)).rows[0].n).toBe(0);
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', 'tenant-b', true)`);
        const { rows } = await client.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM timeline_events`);
        expect(rows).toEqual([{ tenant_id: 'tenant-b' }]);
        await client.query('COMMIT');
        // Transaction-local: the setting is gone once the transaction ends.
        expect((await client.query(`SELECT count(*)::int AS n FROM timeline_events`)).rows[0].n).toBe(0);
      } finally {
        await client.end();
      }
    });

    if (engine.name === 'embedded PGlite') it('refuses a second service on the same data directory', async () => {
      await expect(PgliteStore.open({ dataDir: ts.dataDir, migrations: [CORE_MIGRATIONS] })).rejects.toMatchObject({ code: 'store.locked' });
    });
  });
}
