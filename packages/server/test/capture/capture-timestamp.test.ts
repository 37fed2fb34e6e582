/**
 * With a TSA configured (STELLA_EVIDENCE_TSA_URL), forensic captures and evidence bundles carry
 * an RFC 3161 timestamp over their signature, from a real TSA (`openssl ts -reply` behind a tiny
 * HTTP server); with its root trusted (STELLA_EVIDENCE_TSA_CA, or --tsa-ca offline) the signing
 * time is reported as proven (`tsa`), and `--require-timestamp` passes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '@stellaops/cli';
import { verifyBundle } from '@stellaops/forensics';
import { startTestTsa, type TestTsa } from '../../../forensics/test/helpers/openssl-tsa.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const TENANT = 'acme';
let tsa: TestTsa;
let svc: ReceiverService;
let dir: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
async function stella(...argv: string[]): Promise<{ code: number; out: string; json: () => Record<string, any> }> {
  let out = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: () => undefined, env: {}, cwd: dir });
  const code = await run(argv);
  return { code, out, json: () => JSON.parse(out) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-capture-tsa-'));
  tsa = await startTestTsa();
  process.env['STELLA_EVIDENCE_TSA_URL'] = await tsa.listen();
  process.env['STELLA_EVIDENCE_TSA_CA'] = tsa.caPath;
  svc = await startReceiver();
}, 60_000);
afterAll(async () => {
  delete process.env['STELLA_EVIDENCE_TSA_URL'];
  delete process.env['STELLA_EVIDENCE_TSA_CA'];
  await svc?.stop();
  await tsa?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('RFC 3161 timestamps from a configured TSA', () => {
  it('a forensic capture carries a timestamp over its signature; offline, --require-timestamp passes with the TSA root', async () => {
    const token = await svc.token(TENANT, [`stella:evidence:export#tenant/${TENANT}`, `stella:obs:read#tenant/${TENANT}`]);
    const res = await svc.service.app.inject({ method: 'GET', url: '/telemetry/exports/forensic/90m', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const file = join(dir, 'capture.tar.gz');
    await writeFile(file, res.rawPayload);
    expect(res.rawPayload.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
    const key = (await svc.service.app.inject({ method: 'GET', url: '/telemetry/exports/signing-key', headers: { authorization: `Bearer ${token}` } })).json<{ public_key_pem: string }>();
    await writeFile(join(dir, 'capture.pub.pem'), key.public_key_pem);

    const v = await verifyBundle(file, { publicKey: key.public_key_pem, tsaTrustAnchors: [tsa.caPem], requireTimestamp: true });
    expect(v.failures).toEqual([]);
    expect(v).toMatchObject({ ok: true, container: 'tar.gz', format: 'stellaops.evidence/v2', timestamp: { covers: 'signature', trusted: true }, signingTime: { source: 'tsa', tsa: 'CN=StellaOps Test TSA' } });
    // The window ends a second into the future; the signed creation time does not.
    expect(Date.parse(v.createdAt!)).toBeLessThanOrEqual(Date.parse(v.signingTime!.time) + 1000);

    const cli = await stella('forensic', 'verify', 'capture.tar.gz', '--key', 'capture.pub.pem', '--tsa-ca', tsa.caPath, '--require-timestamp', '--json');
    expect(cli.code).toBe(0);
    expect(cli.json()).toMatchObject({ ok: true, container: 'tar.gz', signing_time: { source: 'tsa' } });
    // Without the TSA root the same capture's time is only asserted, and a required timestamp fails.
    const asserted = await stella('forensic', 'verify', 'capture.tar.gz', '--key', 'capture.pub.pem');
    expect(asserted.code).toBe(0);
    expect(asserted.out).toMatch(/signed at .* \(asserted: the signer's own claim, not proven/);
    const required = await stella('forensic', 'verify', 'capture.tar.gz', '--key', 'capture.pub.pem', '--require-timestamp', '--json');
    expect(required.code).toBe(1);
    expect(required.json().failures.map((f: { code: string }) => f.code)).toEqual(['timestamp_untrusted']);
  }, 60_000);

  it('an evidence bundle carries one too, and the service reports its signing time as proven', async () => {
    const token = await svc.token(TENANT, [`stella:evidence:create#tenant/${TENANT}`, `stella:evidence:read#tenant/${TENANT}`, `stella:evidence:export#tenant/${TENANT}`]);
    const headers = { authorization: `Bearer ${token}` };
    const attach = await svc.service.app.inject({
      method: 'POST',
      url: '/evidence/artifacts',
      headers,
      payload: { resource_type: 'evaluation', resource_id: 'eval-tsa', role: 'sbom', name: 'sbom.json', media_type: 'application/json', content_base64: Buffer.from('{"bomFormat":"CycloneDX"}').toString('base64') },
    });
    expect(attach.statusCode).toBe(201);
    const snap = await svc.service.app.inject({ method: 'POST', url: '/evidence/snapshot', headers, payload: { kind: 'evaluation', resource_id: 'eval-tsa', case_id: 'case-tsa' } });
    expect(snap.statusCode).toBe(201);
    const id = snap.json<{ bundle_id: string }>().bundle_id;
    const got = await svc.service.app.inject({ method: 'GET', url: `/evidence/${id}`, headers });
    const verification = got.json<{ verification: Record<string, unknown> }>().verification;
    expect(verification).toMatchObject({ ok: true, format: 'stellaops.evidence/v2', timestamp: { covers: 'signature', trusted: true }, signing_time: { source: 'tsa', tsa: 'CN=StellaOps Test TSA' } });
    const archive = await svc.service.app.inject({ method: 'GET', url: `/evidence/${id}/archive`, headers });
    await writeFile(join(dir, 'bundle.tar'), archive.rawPayload);
    const ring = await svc.service.app.inject({ method: 'GET', url: '/evidence/keyring', headers });
    const { version, log } = ring.json<{ version: 1; log: unknown[] }>();
    await writeFile(join(dir, 'keyring.json'), JSON.stringify({ version, log }));
    const offline = await stella('forensic', 'verify', 'bundle.tar', '--keyring', 'keyring.json', '--tsa-ca', tsa.caPath, '--require-timestamp');
    expect(offline.code).toBe(0);
    expect(offline.out).toMatch(/signed no later than .* \(tsa: proven by an RFC 3161 timestamp over the signature from CN=StellaOps Test TSA/);
  }, 60_000);
});
