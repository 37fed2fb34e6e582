/**
 * EVI-1/3/4 through the API: attach artifacts, snapshot, read (verified on read), download the
 * deterministic archive and verify it offline with the forensics library and the published key
 * ring; any tamper fails, naming the file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, verifyBundleStream } from '@stellaops/forensics';
import { Readable } from 'node:stream';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from './forensics-service.js';
import type { TimelineRuntime } from '../../src/timeline/timeline-feature.js';

describe('evidence snapshots through the API', () => {
  let ts: ForensicsTestService;
  let token: string;
  let bundleId: string;
  let archive: Buffer;

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    ts.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload !== undefined ? { payload: payload as never } : {}) });

  beforeAll(async () => {
    ts = await startForensicsService();
    token = await ts.token('acme', ALL_SCOPES);
  });
  afterAll(async () => ts?.stop());

  it('refuses a snapshot of a resource it holds nothing about', async () => {
    const res = await call('POST', '/evidence/snapshot', { kind: 'evaluation', resource_id: 'eval-none', case_id: 'case-1' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error_code: 'evidence.inputs_missing' });
  });

  it('attaches artifacts idempotently and refuses a changed one', async () => {
    const sbom = JSON.stringify({ bomFormat: 'CycloneDX', components: [{ purl: 'pkg:npm/lodash@4.17.20' }] });
    const first = await call('POST', '/evidence/artifacts', artifact('evaluation', 'eval-1', 'sbom', 'sbom.cdx.json', sbom));
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ role: 'sbom', created: true, size: sbom.length });
    const again = await call('POST', '/evidence/artifacts', artifact('evaluation', 'eval-1', 'sbom', 'sbom.cdx.json', sbom));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: false, digest: first.json<{ digest: string }>().digest });
    const changed = await call('POST', '/evidence/artifacts', artifact('evaluation', 'eval-1', 'sbom', 'sbom.cdx.json', `${sbom} `));
    expect(changed.statusCode).toBe(409);
    expect(changed.json()).toMatchObject({ error_code: 'evidence.artifact_conflict' });
    const escape = await call('POST', '/evidence/artifacts', artifact('evaluation', 'eval-1', 'vex', '../../etc/passwd', 'x'));
    expect(escape.statusCode).toBe(400);
    const advisory = await call('POST', '/evidence/artifacts', artifact('evaluation', 'eval-1', 'advisory', 'GHSA-35jh-r3h4-6jhm.json', '{"id":"GHSA-35jh-r3h4-6jhm"}'));
    expect(advisory.statusCode).toBe(201);
  });

  it('creates a snapshot and records it with a timeline event', async () => {
    await (ts.service.features.get('timeline') as TimelineRuntime).repository.insertBatch('acme', [
      ts.service.emitter.build({ tenant_id: 'acme', kind: 'policy.evaluated', resource_type: 'evaluation', resource_id: 'eval-1', trace_id: 'a'.repeat(32), details: { verdict: 'fail' } }),
    ]);
    const res = await call('POST', '/evidence/snapshot', { kind: 'evaluation', resource_id: 'eval-1', case_id: 'case-1' });
    expect(res.statusCode).toBe(201);
    const bundle = res.json<{ bundle_id: string; path: string; root_hash: string; signer_key_id: string; file_count: number }>();
    bundleId = bundle.bundle_id;
    expect(bundle.path).toBe(`tenants/acme/evidence/case-1/${bundleId}/`);
    expect(bundle.root_hash).toMatch(/^[0-9a-f]{64}$/);
    // sbom, advisory, timeline, decisions, inputs.json
    expect(bundle.file_count).toBe(5);
    // The object layout of EVI-1 on disk, holding exactly the bundle.
    const dir = join(ts.dataDir, 'evidence', 'tenants', 'acme', 'evidence', 'case-1', bundleId);
    expect((await readdir(dir)).sort()).toEqual(['files', 'manifest.dsse.json', 'manifest.json', 'manifest.sig', 'manifest.sigstore.json', 'root.merkle']);
    expect((await stat(join(dir, 'manifest.json'))).mode & 0o222).toBe(0);
    const timeline = await ts.service.store.tenantTransaction('acme', (tx) =>
      tx.query<{ kind: string; resource_id: string }>("SELECT kind, resource_id FROM timeline_events WHERE tenant_id = 'acme' AND kind = 'evidence.snapshot.created'"),
    );
    expect(timeline.rows).toEqual([{ kind: 'evidence.snapshot.created', resource_id: bundleId }]);
  });

  it('serves the bundle verified on read', async () => {
    const res = await call('GET', `/evidence/${bundleId}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ verification: { ok: boolean }; manifest: { files: { path: string }[]; tenant: string }; signature: string }>();
    expect(body.verification.ok).toBe(true);
    expect(body.manifest.tenant).toBe('acme');
    expect(body.manifest.files.map((f) => f.path)).toContain('sbom/sbom.cdx.json');
    expect(body.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('downloads a deterministic archive that verifies offline against the published key ring', async () => {
    const first = await call('GET', `/evidence/${bundleId}/archive`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/x-tar');
    archive = first.rawPayload;
    expect(Number(first.headers['content-length'])).toBe(archive.length);
    const second = await call('GET', `/evidence/${bundleId}/archive`);
    expect(second.rawPayload.equals(archive)).toBe(true);

    const ring = Keyring.fromJSON((await call('GET', '/evidence/keyring')).json());
    const ok = await verifyBundleStream(Readable.from([archive]), { keyring: ring });
    expect(ok.failures).toEqual([]);
    expect(ok.ok).toBe(true);

    const tampered = Buffer.from(archive);
    const at = tampered.indexOf(Buffer.from('lodash'));
    tampered[at] = 'L'.charCodeAt(0);
    const bad = await verifyBundleStream(Readable.from([tampered]), { keyring: ring });
    expect(bad.ok).toBe(false);
    expect(bad.failures.map((f) => [f.code, f.path])).toContainEqual(['digest_mismatch', 'files/sbom/sbom.cdx.json']);
  });

  it('verifies stored bundles and uploaded archives on the server', async () => {
    const stored = await call('POST', '/evidence/verify', { bundle_id: bundleId });
    expect(stored.json()).toMatchObject({ source: 'stored', bundle_id: bundleId, verification: { ok: true } });
    const upload = await call('POST', '/evidence/verify', archive, { 'content-type': 'application/x-tar' });
    expect(upload.json()).toMatchObject({ source: 'upload', bundle_id: bundleId, verification: { ok: true } });
    const tampered = Buffer.from(archive);
    tampered[tampered.indexOf(Buffer.from('GHSA-35jh'))] = 'X'.charCodeAt(0);
    const bad = await call('POST', '/evidence/verify', tampered, { 'content-type': 'application/x-tar' });
    expect(bad.statusCode).toBe(200);
    expect(bad.json<{ verification: { ok: boolean; failures: { code: string }[] } }>().verification.ok).toBe(false);
  });

  it('records the export as an audit event', async () => {
    const rows = await ts.service.store.tenantTransaction('acme', (tx) =>
      tx.query<{ n: number }>("SELECT count(*)::int AS n FROM timeline_events WHERE tenant_id = 'acme' AND kind = 'audit.evidence.exported'"),
    );
    expect(rows.rows[0]!.n).toBeGreaterThanOrEqual(2);
  });
});
