/**
 * FED-1..4 through the service: a consent signed and recorded, a bundle built from the
 * tenant's findings (the findings.json evidence artifacts of its evaluations) with k-anonymity,
 * the same window giving the same bundle, both audited on the timeline; verification through the
 * API with the stable codes, and offline with the forensics library and the service's key map.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEDERATION_BUNDLE_PAYLOAD_TYPE, parseFederationKeyMap, verifyFederationBundle, type FederationEnvelope } from '@stellaops/forensics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';

const TENANT = 'acme';
let t: TestService;
let admin: string;
let reader: string;
let writer: string;
let from: string;
let to: string;

const call = (method: 'GET' | 'POST', url: string, payload?: unknown, token = admin) =>
  t.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': TENANT }, ...(payload !== undefined ? { payload: payload as never } : {}) });

/** Six evaluations: CVE-1 in all (four not_affected), CVE-2 in three, CVE-3 in one. */
async function attachFindings(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    const findings = [
      { advisory_id: 'CVE-2026-0001', purl: `pkg:npm/a@1.${i}.0`, severity: 'high', vex_status: i < 4 ? 'not_affected' : 'affected', vex_justification: null },
      ...(i < 3 ? [{ advisory_id: 'CVE-2026-0002', purl: 'pkg:npm/b@2.0.0', severity: 'low', vex_status: 'none' }] : []),
      ...(i === 0 ? [{ advisory_id: 'CVE-2026-0003', purl: 'pkg:npm/c@3.0.0', severity: 'critical', vex_status: 'under_investigation' }] : []),
    ];
    const res = await call(
      'POST',
      '/evidence/artifacts',
      { resource_type: 'evaluation', resource_id: `eval-${i}`, role: 'input', name: 'findings.json', media_type: 'application/json', content_base64: Buffer.from(JSON.stringify(findings)).toString('base64') },
      writer,
    );
    expect(res.statusCode, res.body).toBe(201);
  }
  // Not findings: another name, and another resource type, are not read.
  await call('POST', '/evidence/artifacts', { resource_type: 'evaluation', resource_id: 'eval-0', role: 'output', name: 'decisions.json', media_type: 'application/json', content_base64: Buffer.from('[{"advisory_id":"CVE-X"}]').toString('base64') }, writer);
}

beforeAll(async () => {
  t = await startTestService({ STELLA_FEDERATION_MIN_ARTIFACTS: '3' });
  admin = await t.token(TENANT, [`stella:federation:admin#tenant/${TENANT}`, `stella:timeline:read#tenant/${TENANT}`]);
  reader = await t.token(TENANT, [`stella:federation:read#tenant/${TENANT}`]);
  writer = await t.token(TENANT, [`stella:evidence:create#tenant/${TENANT}`]);
  const now = Date.now();
  from = new Date(now - 3_600_000).toISOString();
  await attachFindings();
  to = new Date(Date.now() + 1000).toISOString();
}, 180_000);
afterAll(async () => t?.stop());

const CONSENT = { consent_id: 'consent-2026-q1', granted_by: 'ciso@acme', purpose: 'share CVE noise statistics with partner installations', expires_at: '2999-01-01T00:00:00Z' };

describe('federation through the service', () => {
  let consentEnvelope: FederationEnvelope;
  let bundleEnvelope: FederationEnvelope;

  it('signs and records a consent, audited; the same consent again changes nothing, other content is a 409', async () => {
    const res = await call('POST', '/federation/consents', CONSENT);
    expect(res.statusCode, res.body).toBe(201);
    const { consent } = res.json();
    expect(consent).toMatchObject({ consent_id: 'consent-2026-q1', tenant_id: TENANT, unsigned: false, signer_key_id: expect.stringMatching(/^stella-[0-9a-f]{8}$/), digest: expect.stringMatching(/^sha256:/) });
    consentEnvelope = consent.envelope;
    const again = await call('POST', '/federation/consents', { ...CONSENT, granted_at: consent.granted_at });
    expect(again.statusCode).toBe(200);
    const conflict = await call('POST', '/federation/consents', { ...CONSENT, purpose: 'something else' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ error_code: 'federation.consent_conflict' });
    const list = await call('GET', '/federation/consents', undefined, reader);
    expect(list.json().consents.map((c: { consent_id: string }) => c.consent_id)).toEqual(['consent-2026-q1']);
  });

  it('builds a bundle from the findings of the window, leaving out what fewer than k evaluations show', async () => {
    const res = await call('POST', '/federation/bundles', { consent_id: 'consent-2026-q1', from, to });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ created: true, findings_documents: 6, observations: 10, skipped: 0, bundle: { consent_id: 'consent-2026-q1', min_artifacts: 3, buckets: 2, suppressed: 1, created_at: new Date(to).toISOString() } });
    expect(body.bucket_list).toEqual([
      { cveId: 'CVE-2026-0001', noisyCount: 4, artifactCount: 6, observationCount: 6 },
      { cveId: 'CVE-2026-0002', noisyCount: 0, artifactCount: 3, observationCount: 3 },
    ]);
    bundleEnvelope = body.envelope;
    expect(bundleEnvelope.payloadType).toBe(FEDERATION_BUNDLE_PAYLOAD_TYPE);
    // Nothing of the tenant's own leaves: no tenant, evaluation or component in the payload.
    const payload = Buffer.from(bundleEnvelope.payload, 'base64').toString('utf8');
    for (const secret of ['acme', 'eval-', 'pkg:npm']) expect(payload).not.toContain(secret);

    // The same window again: the same bundle, byte for byte — and the export is audited again.
    const again = await call('POST', '/federation/bundles', { consent_id: 'consent-2026-q1', from, to });
    expect(again.statusCode).toBe(200);
    expect(again.json().created).toBe(false);
    expect(JSON.stringify(again.json().envelope)).toBe(JSON.stringify(bundleEnvelope));

    const list = await call('GET', '/federation/bundles', undefined, reader);
    expect(list.json().bundles).toHaveLength(1);
    const one = await call('GET', `/federation/bundles/${body.bundle.bundle_id}`, undefined, reader);
    expect(one.json()).toMatchObject({ envelope: bundleEnvelope, consent_envelope: consentEnvelope });
  });

  it('audits every consent and export on the tenant timeline', async () => {
    const kinds = async (kind: string) => (await call('GET', `/timeline?kind=${kind}&from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`)).json().events as { resource_id: string; details: Record<string, unknown> }[];
    const granted = await kinds('audit.federation.consent_granted');
    expect(granted).toHaveLength(1);
    expect(granted[0]).toMatchObject({ resource_id: 'consent-2026-q1', details: { purpose: CONSENT.purpose, unsigned: false } });
    const exported = await kinds('audit.federation.bundle_exported');
    expect(exported).toHaveLength(2);
    expect(exported[0]!.details).toMatchObject({ consent_id: 'consent-2026-q1', buckets: 2, suppressed: 1, min_artifacts: 3 });
  });

  it('verifies through the API, and answers each failure with its stable code', async () => {
    const ok = await call('POST', '/federation/bundles/verify', { bundle: bundleEnvelope, consent: consentEnvelope }, reader);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ valid: true, consent_id: 'consent-2026-q1', tenant_id: TENANT, fallback: null, buckets: [{ cveId: 'CVE-2026-0001' }, { cveId: 'CVE-2026-0002' }] });

    const sig = Buffer.from(bundleEnvelope.signatures[0]!.sig, 'base64');
    sig[3]! ^= 0x40;
    const cases: [unknown, unknown, number, string][] = [
      [{ ...bundleEnvelope, signatures: [{ keyid: bundleEnvelope.signatures[0]!.keyid, sig: sig.toString('base64') }] }, consentEnvelope, 422, 'federation.dsse.signature_invalid'],
      [{ ...bundleEnvelope, signatures: [{ keyid: 'partner-x', sig: sig.toString('base64') }] }, consentEnvelope, 422, 'federation.dsse.untrusted_key'],
      [consentEnvelope, consentEnvelope, 422, 'federation.dsse.payload_type_mismatch'],
      [{ ...bundleEnvelope, payload: 'eyJ' }, consentEnvelope, 400, 'federation.payload.invalid'],
      [{ ...bundleEnvelope, signatures: [{ keyid: 'offline-unsigned-fallback', sig: '' }] }, consentEnvelope, 422, 'federation.dsse.signature_invalid'],
    ];
    for (const [bundle, consent, status, code] of cases) {
      const res = await call('POST', '/federation/bundles/verify', { bundle, consent }, reader);
      expect(res.statusCode, code).toBe(status);
      expect(res.json(), code).toMatchObject({ error_code: code });
    }
    // Another consent of the tenant: the digest link breaks.
    const other = (await call('POST', '/federation/consents', { ...CONSENT, consent_id: 'consent-other' })).json().consent.envelope;
    const mismatch = await call('POST', '/federation/bundles/verify', { bundle: bundleEnvelope, consent: other }, reader);
    expect(mismatch.json()).toMatchObject({ error_code: 'federation.consent.digest_mismatch' });
  });

  it('verifies offline with the forensics library and the service’s key map', () => {
    const keys = parseFederationKeyMap(readFileSync(join(t.dataDir, 'federation', 'keys.json')));
    const v = verifyFederationBundle(bundleEnvelope, consentEnvelope, { keys });
    expect(v.ok).toBe(true);
  });

  it('refuses a bundle under an expired or unknown consent', async () => {
    const past = await call('POST', '/federation/consents', { consent_id: 'consent-past', granted_by: 'ciso@acme', purpose: 'old', granted_at: '2020-01-01T00:00:00Z', expires_at: '2020-06-01T00:00:00Z' });
    expect(past.statusCode, past.body).toBe(201);
    const expired = await call('POST', '/federation/bundles', { consent_id: 'consent-past', from, to });
    expect(expired.statusCode).toBe(422);
    expect(expired.json()).toMatchObject({ error_code: 'federation.consent.expired' });
    // At exactly expiresAt it no longer holds.
    const boundary = await call('POST', '/federation/bundles', { consent_id: 'consent-past', from: '2020-05-01T00:00:00Z', to: '2020-06-01T00:00:00Z' });
    expect(boundary.json()).toMatchObject({ error_code: 'federation.consent.expired' });
    const held = await call('POST', '/federation/bundles', { consent_id: 'consent-past', from: '2020-05-01T00:00:00Z', to: '2020-06-01T00:00:00Z', created_at: '2020-05-31T23:59:59.999Z' });
    expect(held.statusCode, held.body).toBe(201);
    expect(held.json().bundle).toMatchObject({ buckets: 0 });
    const unknown = await call('POST', '/federation/bundles', { consent_id: 'nope', from, to });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error_code: 'federation.consent_not_found' });
  });

  it('needs the federation admin scope to create, the read scope to list and verify', async () => {
    const denied = await call('POST', '/federation/consents', CONSENT, reader);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ required_scope: `stella:federation:admin#tenant/${TENANT}` });
    expect((await call('POST', '/federation/bundles', { consent_id: 'consent-2026-q1', from, to }, reader)).statusCode).toBe(403);
    expect((await call('GET', '/federation/bundles', undefined, writer)).statusCode).toBe(403);
  });
});
