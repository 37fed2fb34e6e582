/**
 * EVI-3/EVI-7: the platform key exists from the first start; rotation is logged in the signed
 * rotation log and audited; evidence signed before a rotation still verifies offline with the
 * exported key ring, and new evidence is signed by the new key. Per-tenant keys stay apart.
 */
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, verifyBundleStream } from '@stellaops/forensics';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from '../evidence/forensics-service.js';

describe('signing keys and rotation', () => {
  let ts: ForensicsTestService | undefined;
  afterEach(async () => {
    await ts?.stop();
    ts = undefined;
  });

  const snapshot = async (svc: ForensicsTestService, token: string, id: string) => {
    const headers = { authorization: `Bearer ${token}` };
    await svc.service.app.inject({ method: 'POST', url: '/evidence/artifacts', headers, payload: artifact('export', id, 'export-file', 'report.json', `{"id":"${id}"}`) });
    const res = await svc.service.app.inject({ method: 'POST', url: '/evidence/snapshot', headers, payload: { kind: 'export', resource_id: id, case_id: 'case-k' } });
    expect(res.statusCode).toBe(201);
    return res.json<{ bundle_id: string; signer_key_id: string }>();
  };

  it('rotates the platform key; old and new evidence verify offline with the exported ring', { timeout: 180_000 }, async () => {
    ts = await startForensicsService();
    const ring0 = Keyring.fromJSON(await readFile(join(ts.dataDir, 'keys', 'platform', 'keyring.json'), 'utf8'));
    expect(ring0.keys()).toHaveLength(1);
    const operator = await ts.token('acme', ['stella:evidence:admin', 'stella:evidence:read', 'stella:evidence:export', 'stella:evidence:create']);
    const tenantAdmin = await ts.token('acme', ALL_SCOPES);
    const before = await snapshot(ts, tenantAdmin, 'exp-1');
    expect(before.signer_key_id).toBe(ring0.keys()[0]!.keyId);

    const denied = await ts.service.app.inject({ method: 'POST', url: '/evidence/keys/rotate', headers: { authorization: `Bearer ${tenantAdmin}` }, payload: {} });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error_code: 'evidence.platform_scope_required' });

    ts.clock.now += 60_000;
    const rotated = await ts.service.app.inject({ method: 'POST', url: '/evidence/keys/rotate', headers: { authorization: `Bearer ${operator}`, 'x-stella-tenant': 'acme' }, payload: {} });
    expect(rotated.statusCode).toBe(200);
    const r = rotated.json<{ previous_key_id: string; key_id: string; scope: string }>();
    expect(r).toMatchObject({ scope: 'platform', previous_key_id: before.signer_key_id });
    ts.clock.now += 60_000;
    const after = await snapshot(ts, tenantAdmin, 'exp-2');
    expect(after.signer_key_id).toBe(r.key_id);

    const doc = (await ts.service.app.inject({ method: 'GET', url: '/evidence/keyring', headers: { authorization: `Bearer ${tenantAdmin}` } })).json<{
      version: 1;
      log: unknown[];
      rotations: { op: string }[];
      current_key_id: string;
    }>();
    expect(doc.rotations.map((x) => x.op)).toEqual(['add', 'add', 'retire']);
    expect(doc.current_key_id).toBe(r.key_id);
    const ring = Keyring.fromJSON({ version: doc.version, log: doc.log });
    for (const b of [before, after]) {
      const tar = (await ts.service.app.inject({ method: 'GET', url: `/evidence/${b.bundle_id}/archive`, headers: { authorization: `Bearer ${tenantAdmin}` } })).rawPayload;
      const v = await verifyBundleStream(Readable.from([tar]), { keyring: ring });
      expect(v.failures).toEqual([]);
    }
    // The retired key may not sign after its retirement: the ring says so.
    expect(ring.checkKey(before.signer_key_id, new Date(ts.clock.now)).ok).toBe(false);

    const audit = await ts.service.store.tenantTransaction('acme', (tx) =>
      tx.query<{ details: { previous_key_id: string } }>("SELECT details FROM timeline_events WHERE tenant_id = 'acme' AND kind = 'audit.evidence.key_rotated'"),
    );
    expect(audit.rows.map((a) => a.details.previous_key_id)).toEqual([before.signer_key_id]);

    // A restart keeps the rotated ring (key files and log in the data directory).
    await ts.stop(true);
    const dataDir = ts.dataDir;
    ts = await startForensicsService({ dataDir, now: ts.clock.now });
    const again = await snapshot(ts, await ts.token('acme', ALL_SCOPES), 'exp-3');
    expect(again.signer_key_id).toBe(r.key_id);
  });

  it('gives each tenant its own key ring when per-tenant keys are on', { timeout: 120_000 }, async () => {
    ts = await startForensicsService({ features: { settings: { tenantKeys: true } } });
    const a = await snapshot(ts, await ts.token('tenant-a', ALL_SCOPES), 'exp-a');
    const b = await snapshot(ts, await ts.token('tenant-b', ALL_SCOPES), 'exp-b');
    expect(a.signer_key_id).not.toBe(b.signer_key_id);
    const tokenA = await ts.token('tenant-a', ALL_SCOPES);
    const ringA = (await ts.service.app.inject({ method: 'GET', url: '/evidence/keyring', headers: { authorization: `Bearer ${tokenA}` } })).json<{ scope: string; keys: { key_id: string }[] }>();
    expect(ringA.scope).toBe('tenant');
    expect(ringA.keys.map((k) => k.key_id)).toEqual([a.signer_key_id]);
    // A tenant administrator rotates its own key.
    const rotated = await ts.service.app.inject({ method: 'POST', url: '/evidence/keys/rotate', headers: { authorization: `Bearer ${tokenA}` }, payload: { scope: 'tenant' } });
    expect(rotated.json()).toMatchObject({ scope: 'tenant', previous_key_id: a.signer_key_id });
    // B's archive does not verify with A's ring.
    const tokenB = await ts.token('tenant-b', ALL_SCOPES);
    const tarB = (await ts.service.app.inject({ method: 'GET', url: `/evidence/${b.bundle_id}/archive`, headers: { authorization: `Bearer ${tokenB}` } })).rawPayload;
    const verifyAsA = await ts.service.app.inject({ method: 'POST', url: '/evidence/verify', headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/x-tar' }, payload: tarB });
    expect(verifyAsA.json<{ verification: { failures: { code: string }[] } }>().verification.failures.map((f) => f.code)).toContain('key_unknown');
  });
});
