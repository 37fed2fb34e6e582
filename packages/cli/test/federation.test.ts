/**
 * `stella federation` offline on files (FED-1..4): a key map, a consent, a bundle built from
 * findings documents and verified with its consent; the same input gives the same files; a
 * failed verification exits 1 with its stable code, a missing or failing signer exits 2.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';

let dir: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
async function stella(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string; json: () => Record<string, any> }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env, cwd: dir });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) };
}

/** Six evaluations' findings: CVE-A in all six (four not_affected), CVE-B in five, CVE-C in two. */
async function writeFindings(): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < 6; i++) {
    const findings = [
      { advisory_id: 'CVE-2026-0001', purl: `pkg:npm/a@1.${i}.0`, vex_status: i < 4 ? 'not_affected' : 'affected' },
      ...(i < 5 ? [{ advisory_id: 'CVE-2026-0002', purl: 'pkg:npm/b@2.0.0', vex_status: 'none' }] : []),
      ...(i < 2 ? [{ advisory_id: 'CVE-2026-0003', purl: 'pkg:npm/c@3.0.0', vex_status: 'not_affected' }] : []),
    ];
    const file = `findings-${i}.json`;
    await writeFile(join(dir, file), JSON.stringify(findings));
    files.push(file);
  }
  return files;
}

let findings: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-federation-'));
  findings = await writeFindings();
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const CONSENT_ARGS = ['--tenant', 'acme', '--granted-by', 'ciso@acme', '--purpose', 'noise statistics', '--granted-at', '2026-01-01T00:00:00Z', '--expires-at', '2026-07-01T00:00:00Z'];

describe('stella federation, offline', () => {
  it('keygen writes a key map (mode 0600) and adds keys to it', async () => {
    const r = await stella(['federation', 'keygen', '--key-id', 'site-a', '--out', 'keys.json', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, key_id: 'site-a', key_ids: ['site-a'] });
    expect((await stat(join(dir, 'keys.json'))).mode & 0o777).toBe(0o600);
    expect((await stella(['federation', 'keygen', '--key-id', 'site-b', '--out', 'both.json'])).code).toBe(0);
    expect((await stella(['federation', 'keygen', '--key-id', 'site-c', '--out', 'both.json'])).code).toBe(0);
    const both = JSON.parse(await readFile(join(dir, 'both.json'), 'utf8')) as { keys: Record<string, string> };
    expect(Object.keys(both.keys).sort()).toEqual(['site-b', 'site-c']);
    expect(Buffer.from(both.keys['site-b']!, 'base64')).toHaveLength(32);
    const again = await stella(['federation', 'keygen', '--key-id', 'site-b', '--out', 'both.json', '--json']);
    expect(again.code).toBe(2);
    expect(again.json().error.code).toBe('exists');
  });

  it('consent create → bundle build → bundle verify, deterministically', async () => {
    const c = await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--keys', 'keys.json', '--out', 'consent.json', '--json']);
    expect(c.code, c.out + c.err).toBe(0);
    expect(c.json()).toMatchObject({ ok: true, tenant_id: 'acme', signer_key_id: 'site-a', unsigned: false, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    const v = await stella(['federation', 'consent', 'verify', 'consent.json', '--keys', 'keys.json', '--at', '2026-02-01T00:00:00Z', '--json']);
    expect(v.code, v.out).toBe(0);
    expect(v.json()).toMatchObject({ verified: true, consent: { tenantId: 'acme', purpose: 'noise statistics' }, signer_key_id: 'site-a', digest: c.json().digest });

    const build = ['federation', 'bundle', 'build', '--consent', 'consent.json', '--keys', 'keys.json', '--findings', ...findings, '--created-at', '2026-02-01T00:00:00Z'];
    const b = await stella([...build, '--out', 'bundle.json', '--json']);
    expect(b.code, b.out + b.err).toBe(0);
    // CVE-C is in two artifacts only: left out under k = 5.
    expect(b.json()).toMatchObject({ ok: true, buckets: 2, suppressed: 1, observations: 13, k: 5, consent_digest: c.json().digest, signer_key_id: 'site-a' });
    const verified = await stella(['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'consent.json', '--keys', 'keys.json', '--json']);
    expect(verified.code, verified.out).toBe(0);
    expect(verified.json().bundle.buckets).toEqual([
      { cveId: 'CVE-2026-0001', noisyCount: 4, artifactCount: 6, observationCount: 6 },
      { cveId: 'CVE-2026-0002', noisyCount: 0, artifactCount: 5, observationCount: 5 },
    ]);
    expect(verified.json().bundle.bundleId).toBe(b.json().bundle_id);
    // The digests the sender announced (consent create and bundle build print them) can be required.
    const pinned = await stella(['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'consent.json', '--keys', 'keys.json', '--digest', b.json().digest, '--json']);
    expect(pinned.code).toBe(0);
    const wrongDigest = await stella(['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'consent.json', '--keys', 'keys.json', '--digest', `sha256:${'0'.repeat(64)}`, '--json']);
    expect(wrongDigest.code).toBe(1);
    expect(wrongDigest.json()).toMatchObject({ error_code: 'federation.payload.invalid', message: expect.stringMatching(/digest is sha256:/) });
    const consentPinned = await stella(['federation', 'consent', 'verify', 'consent.json', '--keys', 'keys.json', '--digest', `sha256:${'1'.repeat(64)}`, '--json']);
    expect(consentPinned.json()).toMatchObject({ error_code: 'federation.consent.digest_mismatch' });
    const human = await stella(['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'consent.json', '--keys', 'keys.json']);
    expect(human.out).toMatch(/CVE-2026-0001: 4\/6 noisy across 6 artifacts/);

    // The same input, again: byte-identical files, the same id — the findings listed in another order too.
    expect((await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--keys', 'keys.json', '--out', 'consent-2.json'])).code).toBe(0);
    expect(await readFile(join(dir, 'consent-2.json'), 'utf8')).toBe(await readFile(join(dir, 'consent.json'), 'utf8'));
    const again = await stella(['federation', 'bundle', 'build', '--consent', 'consent-2.json', '--keys', 'keys.json', '--findings', ...[...findings].reverse(), '--created-at', '2026-02-01T00:00:00Z', '--out', 'bundle-2.json', '--json']);
    expect(again.json().bundle_id).toBe(b.json().bundle_id);
    expect(await readFile(join(dir, 'bundle-2.json'), 'utf8')).toBe(await readFile(join(dir, 'bundle.json'), 'utf8'));
    // A lower k keeps the rare bucket.
    const k2 = await stella([...build, '--k', '2', '--out', 'bundle-k2.json', '--json']);
    expect(k2.json()).toMatchObject({ buckets: 3, suppressed: 0 });
  });

  it('fails verification with exit 1 and the stable code', async () => {
    const untrusted = await stella(['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'consent.json', '--keys', 'both.json', '--json']);
    expect(untrusted.code).toBe(1);
    expect(untrusted.json()).toMatchObject({ ok: false, verified: false, error_code: 'federation.dsse.untrusted_key' });

    const env = JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8')) as { payload: string };
    const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { buckets: { observationCount: number }[] };
    payload.buckets[0]!.observationCount += 1;
    await writeFile(join(dir, 'tampered.json'), JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(payload)).toString('base64') }));
    const tampered = await stella(['federation', 'bundle', 'verify', 'tampered.json', '--consent', 'consent.json', '--keys', 'keys.json']);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/does NOT verify: federation\.dsse\.signature_invalid/);

    const otherConsent = await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--purpose', 'something else', '--keys', 'keys.json', '--out', 'other-consent.json']);
    expect(otherConsent.code).toBe(0);
    const mismatch = await stella(['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'other-consent.json', '--keys', 'keys.json', '--json']);
    expect(mismatch.json()).toMatchObject({ error_code: 'federation.consent.digest_mismatch' });
    const swapped = await stella(['federation', 'consent', 'verify', 'bundle.json', '--keys', 'keys.json', '--json']);
    expect(swapped.json()).toMatchObject({ error_code: 'federation.dsse.payload_type_mismatch' });
    const late = await stella(['federation', 'consent', 'verify', 'consent.json', '--keys', 'keys.json', '--at', '2026-07-01T00:00:00Z', '--json']);
    expect(late.code).toBe(1);
    expect(late.json()).toMatchObject({ error_code: 'federation.consent.expired' });
  });

  it('refuses to sign without a signer (exit 2), and writes tagged unsigned envelopes only when asked', async () => {
    const none = await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--out', 'unsigned.json', '--json']);
    expect(none.code).toBe(2);
    expect(none.json().error.code).toBe('federation.dsse.signer_unavailable');
    const wrongId = await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--keys', 'both.json', '--out', 'unsigned.json', '--json']);
    expect(wrongId.json().error).toMatchObject({ code: 'federation.dsse.signer_unavailable', message: expect.stringMatching(/name the one to sign with/) });

    const unsigned = await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--allow-unsigned', '--out', 'unsigned.json', '--json']);
    expect(unsigned.code).toBe(0);
    expect(unsigned.json()).toMatchObject({ unsigned: true, signer_key_id: null });
    expect(await readFile(join(dir, 'unsigned.json'), 'utf8')).toContain('"keyid":"offline-unsigned-fallback"');
    const refused = await stella(['federation', 'consent', 'verify', 'unsigned.json', '--keys', 'keys.json', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json()).toMatchObject({ error_code: 'federation.dsse.signature_invalid', message: expect.stringContaining('offline-unsigned-fallback') });
    const allowed = await stella(['federation', 'consent', 'verify', 'unsigned.json', '--allow-unsigned', '--json']);
    expect(allowed.code).toBe(0);
    expect(allowed.json()).toMatchObject({ verified: true, fallback: 'offline-unsigned-fallback', signer_key_id: null });
  });

  it('refuses a bundle under an expired consent, and bad flags, with exit 2', async () => {
    const expired = await stella(['federation', 'bundle', 'build', '--consent', 'consent.json', '--keys', 'keys.json', '--findings', ...findings, '--created-at', '2026-07-01T00:00:00Z', '--out', 'late.json', '--json']);
    expect(expired.code).toBe(2);
    expect(expired.json().error.code).toBe('federation.consent.expired');
    const badK = await stella(['federation', 'bundle', 'build', '--consent', 'consent.json', '--keys', 'keys.json', '--findings', ...findings, '--created-at', '2026-02-01T00:00:00Z', '--k', '0', '--out', 'x.json']);
    expect(badK.code).toBe(2);
    const badKeys = await stella(['federation', 'consent', 'verify', 'consent.json', '--keys', 'findings-0.json', '--json']);
    expect(badKeys.code).toBe(2);
    expect(badKeys.json().error.code).toBe('invalid_keyring');
    const exists = await stella(['federation', 'consent', 'create', ...CONSENT_ARGS, '--keys', 'keys.json', '--out', 'consent.json', '--json']);
    expect(exists.json().error.code).toBe('exists');
    const noTenant = await stella(['federation', 'consent', 'create', '--granted-by', 'x', '--purpose', 'y', '--expires-at', '2026-07-01T00:00:00Z', '--keys', 'keys.json', '--out', 'nt.json']);
    expect(noTenant.code).toBe(2);
    expect(noTenant.err).toMatch(/--tenant or set STELLA_TENANT/);
    const fromEnv = await stella(['federation', 'consent', 'create', '--granted-by', 'x', '--purpose', 'y', '--expires-at', '2999-01-01T00:00:00Z', '--keys', 'keys.json', '--out', 'env.json', '--json'], { STELLA_TENANT: 'beta' });
    expect(fromEnv.json()).toMatchObject({ ok: true, tenant_id: 'beta' });
  });
});
