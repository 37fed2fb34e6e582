/**
 * AUTH-3 for evidence and attestations, on the embedded engine and PostgreSQL: tenant B can
 * neither read, verify, hold nor download tenant A's bundles or attestations, whatever it asks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from '@stellaops/forensics';
import type { EvidenceRuntime } from '../../src/evidence/evidence-feature.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { ALL_SCOPES, artifact } from './forensics-service.js';

const pgUp = await postgresAvailable();

const engines = [
  { name: 'embedded PGlite', available: true, env: async () => ({ env: {} as Record<string, string>, db: undefined as TestDatabase | undefined }) },
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
  describe.skipIf(!engine.available)(`evidence tenant isolation on ${engine.name}`, () => {
    let ts: TestService;
    let db: TestDatabase | undefined;
    let tokenA: string;
    let tokenB: string;
    let bundleId: string;
    let attestationId: string;
    let archive: Buffer;

    const as = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
      ts.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload !== undefined ? { payload: payload as never } : {}) });

    beforeAll(async () => {
      const setup = await engine.env();
      db = setup.db;
      try {
        ts = await startTestService(setup.env);
      } catch (error) {
        await db?.drop();
        throw error;
      }
      tokenA = await ts.token('tenant-a', ALL_SCOPES);
      tokenB = await ts.token('tenant-b', ALL_SCOPES);
      expect((await as(tokenA, 'POST', '/evidence/artifacts', artifact('evaluation', 'eval-a', 'sbom', 'sbom.json', '{"secret":"tenant-a"}'))).statusCode).toBe(201);
      const snap = await as(tokenA, 'POST', '/evidence/snapshot', { kind: 'evaluation', resource_id: 'eval-a', case_id: 'case-a' });
      expect(snap.statusCode).toBe(201);
      bundleId = snap.json<{ bundle_id: string }>().bundle_id;
      archive = (await as(tokenA, 'GET', `/evidence/${bundleId}/archive`)).rawPayload;
      const att = await as(tokenA, 'POST', '/attestations', {
        subject_id: 'job-a',
        bundle_id: bundleId,
        statement: { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: 'report.json', digest: { sha256: 'a'.repeat(64) } }], predicateType: SLSA_PROVENANCE_V1, predicate: { buildDefinition: {}, runDetails: {} } },
      });
      expect(att.statusCode).toBe(201);
      attestationId = att.json<{ attestation: { id: string } }>().attestation.id;
    });

    afterAll(async () => {
      await ts?.stop();
      await db?.drop();
    });

    it('hides bundles from another tenant: read, list, download, verify by id', async () => {
      expect((await as(tokenB, 'GET', `/evidence/${bundleId}`)).statusCode).toBe(404);
      expect((await as(tokenB, 'GET', `/evidence/${bundleId}/archive`)).statusCode).toBe(404);
      expect((await as(tokenB, 'POST', '/evidence/verify', { bundle_id: bundleId })).statusCode).toBe(404);
      expect((await as(tokenB, 'DELETE', `/evidence/${bundleId}`)).statusCode).toBe(404);
      expect((await as(tokenB, 'GET', '/evidence?case_id=case-a')).json()).toEqual({ bundles: [] });
      expect((await as(tokenB, 'GET', '/custody/evaluation/eval-a')).statusCode).toBe(404);
      // The owner sees it through the same calls.
      expect((await as(tokenA, 'GET', `/evidence/${bundleId}`)).statusCode).toBe(200);
    });

    it("does not accept A's archive as B's evidence", async () => {
      const res = await as(tokenB, 'POST', '/evidence/verify', archive, { 'content-type': 'application/x-tar' });
      expect(res.statusCode).toBe(200);
      const v = res.json<{ verification: { ok: boolean; failures: { message: string }[] } }>().verification;
      expect(v.ok).toBe(false);
      expect(v.failures.map((f) => f.message)).toContain('the archive belongs to another tenant');
    });

    it("cannot hold A's case: B's hold lands in B's own empty case", async () => {
      const res = await as(tokenB, 'POST', '/evidence/hold/case-a', { action: 'place', reason: 'probe' });
      expect(res.json()).toMatchObject({ held: true, bundles: 0 });
      const evidence = ts.service.features.get('evidence') as EvidenceRuntime;
      expect((await evidence.objects.lockState(`tenants/tenant-a/evidence/case-a/${bundleId}/`)).legalHold).toBe(false);
      expect((await as(tokenA, 'GET', `/evidence/${bundleId}`)).json()).toMatchObject({ hold: null });
    });

    it('hides attestations from another tenant', async () => {
      expect((await as(tokenB, 'GET', `/attestations/${attestationId}`)).statusCode).toBe(404);
      expect((await as(tokenB, 'GET', '/attestations?subject_id=job-a')).json()).toEqual({ attestations: [] });
      expect((await as(tokenB, 'POST', '/attestations/verify', { attestation_id: attestationId })).statusCode).toBe(404);
      expect((await as(tokenA, 'GET', `/attestations/${attestationId}`)).json()).toMatchObject({ attestation: { status: 'verified' } });
    });

    it("refuses B's token naming tenant A", async () => {
      for (const url of [`/evidence/${bundleId}`, `/evidence/${bundleId}/archive`, `/attestations/${attestationId}`]) {
        const res = await as(tokenB, 'GET', url, undefined, { 'x-stella-tenant': 'tenant-a' });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ error_code: 'auth.tenant_denied', tenant: 'tenant-a' });
      }
    });

    it('row-level security hides the rows from the application role', async () => {
      for (const table of ['evidence_bundles', 'attestations', 'evidence_artifacts', 'evidence_holds']) {
        const rows = await ts.service.store.tenantTransaction('tenant-b', (tx) => tx.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${table}`));
        expect(rows.rows.every((r) => r.tenant_id === 'tenant-b')).toBe(true);
        const none = await ts.service.store.tenantTransaction(null, (tx) => tx.query(`SELECT 1 FROM ${table}`));
        expect(none.rows).toEqual([]);
      }
    });
  });
}
