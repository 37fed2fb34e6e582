/**
 * COL-3: GET /telemetry/config/profile/{name} serves a profile rendered with the service's
 * options and signed with the key of GET /evidence/keyring; the bundle verifies offline against
 * that ring; a token without stella:telemetry:admin gets 403, an unknown profile 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '@stellaops/forensics';
import { PROFILE_PAYLOAD_TYPE, renderProfile, verifyProfileBundle } from '@stellaops/collector-config';
import { startTestService, type TestService } from '../helpers/service.js';

let ts: TestService;
let admin: string;

beforeAll(async () => {
  ts = await startTestService({ STELLA_SEALED: 'true' });
  admin = await ts.token('acme', ['stella:telemetry:admin#tenant/acme', 'stella:evidence:read#tenant/acme']);
}, 60_000);

afterAll(async () => {
  await ts?.stop();
});

const get = (url: string, token: string) => ts.service.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

describe('GET /telemetry/config/profile/:name', () => {
  it('serves the profile rendered with the service options, signed with the key of the exported ring', async () => {
    const res = await get('/telemetry/config/profile/default', admin);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ name: string; profile_digest: string; collector: unknown; sealed: boolean; key_id: string; yaml: string; envelope: { payloadType: string } }>();
    // The installation is sealed, so the profile is rendered sealed.
    expect(body).toMatchObject({ name: 'default', sealed: true, collector: { distribution: 'otelcol-contrib', version: '0.136.0' } });
    expect(body.yaml).toBe(renderProfile('default', { sealed: true }).yaml);
    expect(body.envelope.payloadType).toBe(PROFILE_PAYLOAD_TYPE);
    const doc = (await get('/evidence/keyring', admin)).json<{ version: 1; log: unknown[]; current_key_id: string }>();
    expect(body.key_id).toBe(doc.current_key_id);
    const keyring = Keyring.fromJSON({ version: doc.version, log: doc.log });
    const v = verifyProfileBundle(body.yaml, JSON.stringify(body.envelope), { keyring });
    expect(v).toMatchObject({ ok: true, digest: body.profile_digest, key_ids: [body.key_id] });
    // The same profile again: the same bytes (deterministic rendering and signature).
    expect((await get('/telemetry/config/profile/default', admin)).body).toBe(res.body);
  });

  it('refuses a token without stella:telemetry:admin with 403', async () => {
    const reader = await ts.token('acme', ['stella:obs:read#tenant/acme']);
    const res = await get('/telemetry/config/profile/forensic', reader);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error_code: 'auth.scope_denied', required_scope: 'stella:telemetry:admin#tenant/acme' });
  });

  it('answers 404 profile.not_found for an unknown profile, listing the profiles', async () => {
    const res = await get('/telemetry/config/profile/verbose', admin);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      error_code: 'profile.not_found',
      message: 'no Collector profile is named "verbose"; the profiles are default, forensic, airgap',
      allowed: { profiles: ['default', 'forensic', 'airgap'] },
    });
  });
});
