/**
 * Poison never blocks the line (STO-5): a stored record whose index rows the database refuses
 * (rows that got past the receiver's checks, e.g. written by an older version) is quarantined
 * on its own with the database's reason; every other record of the same flush, of the same
 * tenant and of other tenants is indexed, and the cursor moves past it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordRows } from '../../src/segments/index-rows.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';

function rows(traceId: string, kind: number): RecordRows {
  const now = Date.now();
  return {
    traceIds: [traceId],
    spans: [{ trace_id: traceId, span_id: randomBytes(8).toString('hex'), parent_span_id: null, service: 'svc', name: 'GET /x', kind, start_ms: now, duration_ms: 1, status_code: 0, route: '/x' }],
    logs: [],
  };
}

const engines = [
  { name: 'PGlite', setup: async () => ({ env: {}, drop: async () => undefined }) },
  {
    name: 'PostgreSQL',
    setup: async () => {
      if (!(await postgresAvailable())) return undefined;
      const db: TestDatabase = await createTestDatabase();
      return { env: { STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole }, drop: () => db.drop() };
    },
  },
];

for (const engine of engines) {
  describe(`telemetry index with a record the store refuses (${engine.name})`, () => {
    let t: TestService | undefined;
    let drop: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const s = await engine.setup();
      if (!s) return;
      drop = s.drop;
      t = await startTestService(s.env);
    });
    afterAll(async () => {
      await t?.stop();
      await drop?.();
    });

    it('quarantines that record alone, indexes the rest of the flush for both tenants, and moves on', async () => {
      if (!t) return;
      const telemetry = t.service.parts.telemetry;
      const traces: Record<string, string[]> = { acme: [], globex: [] };
      let poison = '';
      for (let i = 0; i < 40; i++) {
        for (const tenant of ['acme', 'globex']) {
          const traceId = randomBytes(16).toString('hex');
          // One record of acme carries a kind no smallint holds.
          const bad = tenant === 'acme' && i === 17;
          if (bad) poison = traceId;
          else traces[tenant]!.push(traceId);
          const at = telemetry.segments.append(tenant, 'traces', Date.now(), 1, randomBytes(32));
          telemetry.index.addRecord(tenant, at, rows(traceId, bad ? 70_000 : 2));
        }
      }
      await telemetry.segments.durable();
      await telemetry.index.flush();
      expect(telemetry.index.backlog).toBe(0);

      const quarantined = await t.service.parts.quarantine.list('acme');
      expect(quarantined).toHaveLength(1);
      expect(quarantined[0]).toMatchObject({ signal: 'traces', reason: 'index.rejected' });
      expect(quarantined[0]!.error).toMatch(/22003|out of range/);
      expect(quarantined[0]!.source).toMatch(/^segment:traces\/\d{8}T\d{2}\.[A-Za-z0-9_-]+@\d+$/);
      expect(await t.service.parts.quarantine.list('globex')).toHaveLength(0);
      expect(t.service.parts.quarantine.counts.get('traces/acme/index.rejected')).toBe(1);

      for (const tenant of ['acme', 'globex']) {
        const indexed = await t.service.store.tenantTransaction(tenant, (tx) => tx.query<{ trace_id: string }>('SELECT trace_id FROM telemetry_trace_records WHERE tenant_id = $1', [tenant]));
        const ids = new Set(indexed.rows.map((r) => r.trace_id));
        for (const id of traces[tenant]!) expect(ids.has(id), `${tenant} ${id}`).toBe(true);
        expect(ids.has(poison)).toBe(false);
      }
      // The cursor passed the poison record: the next records index normally.
      const after = randomBytes(16).toString('hex');
      telemetry.index.addRecord('acme', telemetry.segments.append('acme', 'traces', Date.now(), 1, randomBytes(8)), rows(after, 5));
      await telemetry.index.flush();
      const found = await t.service.store.tenantTransaction('acme', (tx) => tx.query('SELECT 1 FROM telemetry_spans WHERE tenant_id = $1 AND trace_id = $2', ['acme', after]));
      expect(found.rows).toHaveLength(1);
      const health = await t.service.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
    });
  });
}
