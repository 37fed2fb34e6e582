import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySigner, jobProvenance, signStatement } from '@stellaops/forensics';
import { createProgram } from '../src/index.js';

const run = promisify(execFile);
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'stella.js');
let dir: string;

/** Runs `stella` in-process and captures its output. */
async function stella(...argv: string[]): Promise<{ code: number; out: string; err: string; json: () => Record<string, unknown> }> {
  let out = '';
  let err = '';
  const { run: exec } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd: dir });
  const code = await exec(argv);
  return { code, out, err, json: () => JSON.parse(out) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-'));
  await mkdir(join(dir, 'in', 'sbom'), { recursive: true });
  await writeFile(join(dir, 'in', 'sbom', 'app.cdx.json'), '{"bomFormat":"CycloneDX"}\n');
  await writeFile(join(dir, 'in', 'decision.json'), '{"result":"pass"}\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('stella forensic', () => {
  it('keygen writes a 0600 PKCS#8 key and an SPKI public key, and refuses to overwrite', async () => {
    const r = await stella('forensic', 'keygen', '--out', 'keys', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, algorithm: 'ecdsa-p256-sha256' });
    expect((await stat(join(dir, 'keys', 'signing.key.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'keys', 'signing.key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(await readFile(join(dir, 'keys', 'signing.pub.pem'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    const again = await stella('forensic', 'keygen', '--out', 'keys', '--json');
    expect(again.code).toBe(2);
    expect(again.json()).toMatchObject({ ok: false, error: { code: 'exists' } });
  });

  it('bundle create is deterministic and verify exits 0 on a good bundle, 1 naming the tampered file', async () => {
    const create = (out: string): ReturnType<typeof stella> =>
      stella('forensic', 'bundle', 'create', '--from', 'in', '--kind', 'evaluation', '--key', 'keys/signing.key.pem', '--out', out, '--tenant', 't1', '--case', 'c1', '--created-at', '2025-01-01T00:00:00Z', '--json');
    const a = await create('a.tar');
    expect(a.code).toBe(0);
    expect(a.json()).toMatchObject({ ok: true, files: 2 });
    expect((await create('b.tar')).code).toBe(0);
    expect((await readFile(join(dir, 'a.tar'))).equals(await readFile(join(dir, 'b.tar')))).toBe(true);

    const ok = await stella('forensic', 'verify', 'a.tar', '--key', 'keys/signing.pub.pem');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^VALID a\.tar/);

    const tar = await readFile(join(dir, 'a.tar'));
    const at = tar.indexOf('"result"');
    tar[at + 2]! ^= 0x20;
    await writeFile(join(dir, 'bad.tar'), tar);
    const bad = await stella('forensic', 'verify', 'bad.tar', '--key', 'keys/signing.pub.pem', '--json');
    expect(bad.code).toBe(1);
    expect(bad.json().failures).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'digest_mismatch', path: 'files/decision.json' })]));
    const human = await stella('forensic', 'verify', 'bad.tar', '--key', 'keys/signing.pub.pem');
    expect(human.out).toContain('digest_mismatch [files/decision.json]');
  });

  it('reports the signing time as asserted, refuses other spellings of manifest.sig, and fails --require-timestamp without a TSA token', async () => {
    const ok = await stella('forensic', 'verify', 'a.tar', '--key', 'keys/signing.pub.pem', '--json');
    expect(ok.json()).toMatchObject({ ok: true, format: 'stellaops.evidence/v2', container: 'tar', signing_time: { source: 'asserted', time: '2025-01-01T00:00:00.000Z' } });
    const text = await stella('forensic', 'verify', 'a.tar', '--key', 'keys/signing.pub.pem');
    expect(text.out).toContain("signed at 2025-01-01T00:00:00.000Z (asserted: the signer's own claim, not proven");
    const required = await stella('forensic', 'verify', 'a.tar', '--key', 'keys/signing.pub.pem', '--require-timestamp', '--json');
    expect(required.code).toBe(1);
    expect(required.json().failures).toEqual([expect.objectContaining({ code: 'timestamp_missing', path: 'manifest.sigstore.json' })]);
    // An unpacked copy whose manifest.sig gained a trailing newline: not the bytes the signer wrote.
    await mkdir(join(dir, 'unpacked'));
    await run('tar', ['-xf', join(dir, 'a.tar'), '-C', join(dir, 'unpacked')]);
    const sigPath = join(dir, 'unpacked', 'manifest.sig');
    await writeFile(sigPath, `${await readFile(sigPath, 'ascii')}\n`);
    await mkdir(join(dir, 'unpacked', 'files', 'empty'));
    const bad = await stella('forensic', 'verify', 'unpacked', '--key', 'keys/signing.pub.pem', '--json');
    expect(bad.code).toBe(1);
    expect(bad.json().failures).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'signature_noncanonical', path: 'manifest.sig' }), expect.objectContaining({ code: 'entry_directory', path: 'files/empty/' })]),
    );
  });

  it('exits 2 on usage errors, with a JSON error under --json', async () => {
    expect((await stella('forensic', 'verify', 'a.tar')).code).toBe(2);
    const unknown = await stella('forensic', 'verify', 'a.tar', '--bogus', '--json');
    expect(unknown.code).toBe(2);
    expect(unknown.json()).toMatchObject({ ok: false, error: { code: 'usage' } });
    const missing = await stella('forensic', 'verify', 'nope.tar', '--key', 'keys/signing.pub.pem', '--json');
    expect(missing.code).toBe(2);
    expect(missing.json()).toMatchObject({ error: { code: 'io_error' } });
    expect((await stella('forensic', 'bundle', 'create', '--from', 'in', '--kind', 'nope', '--key', 'k', '--out', 'x.tar')).code).toBe(2);
    expect((await stella('forensic', 'verify', 'a.tar', '--key', 'in/decision.json')).code).toBe(2);
    expect((await stella('--help')).code).toBe(0);
  });

  it('keyring init / rotate / revoke drive verification: a revoked signer fails with key_revoked', async () => {
    expect((await stella('forensic', 'keyring', 'init', '--key', 'keys/signing.key.pem', '--out', 'ring.json', '--at', '2024-12-01T00:00:00Z')).code).toBe(0);
    expect((await stella('forensic', 'verify', 'a.tar', '--keyring', 'ring.json')).code).toBe(0);
    expect((await stella('forensic', 'keygen', '--out', 'keys2', '--algorithm', 'ed25519')).code).toBe(0);
    const rot = await stella('forensic', 'keyring', 'rotate', '--keyring', 'ring.json', '--key', 'keys/signing.key.pem', '--new-public', 'keys2/signing.pub.pem', '--at', '2025-02-01T00:00:00Z', '--json');
    expect(rot.code).toBe(0);
    expect((rot.json().keys as unknown[]).length).toBe(2);
    // Signed 2025-01-01, inside the retired key's window: still valid.
    expect((await stella('forensic', 'verify', 'a.tar', '--keyring', 'ring.json')).code).toBe(0);
    const oldKeyId = (await stella('forensic', 'verify', 'a.tar', '--keyring', 'ring.json', '--json')).json().signer as { key_id: string };
    const rev = await stella('forensic', 'keyring', 'revoke', '--keyring', 'ring.json', '--key', 'keys2/signing.key.pem', '--key-id', oldKeyId.key_id, '--reason', 'key compromise', '--at', '2025-03-01T00:00:00Z');
    expect(rev.code).toBe(0);
    const v = await stella('forensic', 'verify', 'a.tar', '--keyring', 'ring.json', '--json');
    expect(v.code).toBe(1);
    expect(v.json().failures).toEqual([expect.objectContaining({ code: 'key_revoked' })]);
  });

  it('attest verify checks the signature and the artifact digest', async () => {
    const artifact = join(dir, 'in', 'decision.json');
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(await readFile(artifact)).digest('hex');
    const signer = createKeySigner(await readFile(join(dir, 'keys', 'signing.key.pem'), 'utf8'));
    const statement = jobProvenance({
      jobId: 'job-1',
      builderId: 'https://stella-ops.org/task-runner/test',
      runnerImage: { uri: 'oci://runner', digest: { sha256: 'a'.repeat(64) } },
      outputs: [{ name: 'decision.json', digest: { sha256: digest } }],
      finishedOn: '2025-01-01T00:00:00Z',
    });
    await writeFile(join(dir, 'att.json'), JSON.stringify(await signStatement(statement, signer)));
    const ok = await stella('forensic', 'attest', 'verify', 'att.json', '--artifact', 'in/decision.json', '--key', 'keys/signing.pub.pem', '--json');
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, matched: ['decision.json'], signer_key_ids: [signer.keyId] });
    const bad = await stella('forensic', 'attest', 'verify', 'att.json', '--artifact', 'in/sbom/app.cdx.json', '--key', 'keys/signing.pub.pem');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('subject_mismatch');
  });

  it('runs through the installed bin shim', async () => {
    const r = await run(process.execPath, [bin, 'forensic', 'verify', join(dir, 'a.tar'), '--key', join(dir, 'keys', 'signing.pub.pem'), '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    await expect(run(process.execPath, [bin, 'forensic', 'verify', join(dir, 'bad.tar'), '--key', join(dir, 'keys', 'signing.pub.pem')])).rejects.toMatchObject({ code: 1 });
  });
});
