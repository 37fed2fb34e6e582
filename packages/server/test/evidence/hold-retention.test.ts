/**
 * EVI-5: legal hold blocks deletion by the pruning job and by the API; release re-enables it;
 * incident extensions keep evidence; every hold change, refusal and deletion is an `audit.*`
 * timeline event (a pruning pass summarises its refusals in one event).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from './forensics-service.js';

const DAY = 86_400_000;

describe('legal hold and retention', () => {
  let ts: ForensicsTestService;
  let token: string;
  const held: string[] = [];
  let free: string;

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    ts.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as never } : {}) });
  const audits = async () =>
    (
      await ts.service.store.tenantTransaction('acme', (tx) =>
        tx.query<{ kind: string; resource_id: string; details: Record<string, unknown> }>(
          "SELECT kind, resource_id, details FROM timeline_events WHERE tenant_id = 'acme' AND starts_with(kind, 'audit.') ORDER BY ts, event_id",
        ),
      )
    ).rows;
  const snapshot = async (caseId: string, resource: string) => {
    expect((await call('POST', '/evidence/artifacts', artifact('job', resource, 'transcript', 'run.log', `ran ${resource}\n`))).statusCode).toBe(201);
    const res = await call('POST', '/evidence/snapshot', { kind: 'job-capsule', resource_id: resource, case_id: caseId });
    expect(res.statusCode).toBe(201);
    return res.json<{ bundle_id: string }>().bundle_id;
  };

  beforeAll(async () => {
    ts = await startForensicsService();
    token = await ts.token('acme', ALL_SCOPES);
    expect((await call('PUT', '/evidence/retention', { retention_days: 90 })).json()).toMatchObject({ retention_days: 90, source: 'tenant', allowed: { min_days: 90, max_days: 3650 } });
    held.push(await snapshot('case-held', 'job-1'));
    free = await snapshot('case-free', 'job-2');
  });
  afterAll(async () => ts?.stop());

  it('places a hold, which applies to bundles committed later too', async () => {
    const res = await call('POST', '/evidence/hold/case-held', { action: 'place', reason: 'litigation 2025-17' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ case_id: 'case-held', held: true, bundles: 1 });
    held.push(await snapshot('case-held', 'job-3'));
    const lock = await ts.evidence.objects.lockState(`tenants/acme/evidence/case-held/${held[1]}/`);
    expect(lock.legalHold).toBe(true);
    expect((await call('GET', `/evidence/${held[0]}`)).json()).toMatchObject({ hold: { reason: 'litigation 2025-17' } });
  });

  it('refuses API deletion within retention and under hold, with audits', async () => {
    const early = await call('DELETE', `/evidence/${free}`);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ error_code: 'evidence.retained' });
    ts.clock.now += 91 * DAY;
    const heldDelete = await call('DELETE', `/evidence/${held[0]}`);
    expect(heldDelete.statusCode).toBe(409);
    expect(heldDelete.json()).toMatchObject({ error_code: 'evidence.on_hold' });
    const refused = (await audits()).filter((a) => a.kind === 'audit.evidence.deletion_refused');
    expect(refused.map((a) => [a.resource_id, a.details['via'], a.details['refused_code']])).toEqual([
      [free, 'api', 'evidence.retained'],
      [held[0], 'api', 'evidence.on_hold'],
    ]);
  });

  it('prunes expired bundles except held ones, and audits the refusals in one summary event', async () => {
    const [outcome] = await ts.evidence.pruning.runOnce();
    expect(outcome!.deleted).toEqual([free]);
    expect(outcome!.refused.map((r) => r.bundle_id).sort()).toEqual([...held].sort());
    expect(outcome!.refused.every((r) => r.reason === 'legal_hold' && r.code === 'evidence.on_hold')).toBe(true);
    expect((await call('GET', `/evidence/${free}`)).statusCode).toBe(404);
    expect((await call('GET', `/evidence/${held[0]}`)).json()).toMatchObject({ verification: { ok: true } });
    const all = await audits();
    const kinds = all.map((a) => [a.kind, a.resource_id, a.details['via']]);
    expect(kinds).toContainEqual(['audit.evidence.deleted', free, 'retention']);
    expect(kinds).not.toContainEqual(['audit.evidence.deletion_refused', held[0], 'retention']);
    const summaries = all.filter((a) => a.kind === 'audit.retention.deletion_refused');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      resource_id: 'evidence',
      details: { target: 'evidence', deleted: 1, refused: 2, refused_by_reason: { legal_hold: 2 }, legal_holds: [{ case_id: 'case-held', reason: 'litigation 2025-17' }] },
    });
    expect(outcome!.audit_event_id).toBeTruthy();
    // The next pass has nothing newly due: no second summary.
    const [again] = await ts.evidence.pruning.runOnce();
    expect(again!.audit_event_id).toBeNull();
    expect((await audits()).filter((a) => a.kind === 'audit.retention.deletion_refused')).toHaveLength(1);
  });

  it('keeps evidence while incident mode extends retention', async () => {
    const until = new Date(ts.clock.now + 5 * DAY).toISOString();
    expect((await call('PUT', '/evidence/retention', { extended_until: until })).statusCode).toBe(200);
    expect((await call('POST', '/evidence/hold/case-held', { action: 'release', reason: 'case closed' })).json()).toMatchObject({ held: false, bundles: 2 });
    ts.clock.now += 1 * DAY;
    const [extended] = await ts.evidence.pruning.runOnce();
    expect(extended!.deleted).toEqual([]);
    expect(extended!.refused.every((r) => r.code === 'evidence.retained' && r.reason === 'incident')).toBe(true);
    // The same bundles, now kept by another hold: audited again, naming it.
    const latest = (await audits()).filter((a) => a.kind === 'audit.retention.deletion_refused').pop();
    expect(latest).toMatchObject({ details: { still_kept_by_reason: { incident: 2 }, evidence_extended_until: until } });
    expect((await call('PUT', '/evidence/retention', { extended_until: null })).statusCode).toBe(200);
  });

  it('release re-enables deletion by pruning and by the API', async () => {
    const del = await call('DELETE', `/evidence/${held[0]}`);
    expect(del.statusCode).toBe(200);
    ts.clock.now += 91 * DAY;
    const [outcome] = await ts.evidence.pruning.runOnce();
    expect(outcome!.deleted).toEqual([held[1]]);
    expect((await call('GET', '/evidence')).json()).toEqual({ bundles: [] });
    const kinds = (await audits()).map((a) => a.kind);
    for (const k of ['audit.evidence.hold_placed', 'audit.evidence.hold_released', 'audit.evidence.retention_changed', 'audit.evidence.deleted']) expect(kinds).toContain(k);
  });

  it('rejects malformed hold requests with stable codes', async () => {
    expect((await call('POST', '/evidence/hold/case-held', { action: 'freeze', reason: 'x' })).json()).toMatchObject({ error_code: 'request.invalid' });
    expect((await call('POST', '/evidence/hold/..%2F..', { action: 'place', reason: 'x' })).statusCode).toBe(400);
    const reader = await ts.token('acme', ['evidence:read']);
    const denied = await ts.service.app.inject({ method: 'POST', url: '/evidence/hold/case-held', headers: { authorization: `Bearer ${reader}` }, payload: { action: 'place', reason: 'x' } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error_code: 'auth.scope_denied', required_scope: 'stella:evidence:export#tenant/acme' });
  });
});
