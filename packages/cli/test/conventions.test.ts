/**
 * Conventions every `stella` command keeps, checked without a service: the exit codes in
 * `stella --help`; progress drawn on a terminal only; destinations that cannot hold a file
 * refused at once; private keys refused where a public key belongs; `stella auth token` reads
 * its environment and mints only scopes the service knows.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeySigner, jobProvenance, signStatement } from '@stellaops/forensics';
import { KNOWN_SCOPE_BASES } from '@stellaops/telemetry-core/scopes';
import { exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';
import { startProgress } from '../src/progress.js';

let dir: string;
/** What the bar writes after its text to erase the rest of the line. */
const ERASE_LINE = '\u001b[K';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
async function stella(argv: string[], options: { env?: Record<string, string>; tty?: boolean } = {}): Promise<{ code: number; out: string; err: string; json: () => Record<string, any> }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: options.env ?? {}, cwd: dir, stderrIsTTY: options.tty ?? false });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) };
}

let publicKey: JWK;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-conventions-'));
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'decision.json'), '{"result":"pass"}\n');
  expect((await stella(['forensic', 'keygen', '--out', 'keys'])).code).toBe(0);
  expect((await stella(['forensic', 'bundle', 'create', '--from', 'in', '--kind', 'evaluation', '--key', 'keys/signing.key.pem', '--out', 'b.tar', '--created-at', '2025-01-01T00:00:00Z'])).code).toBe(0);
  // A development authority key, made here as the service makes it on first start.
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(pair.privateKey);
  publicKey = await exportJWK(pair.publicKey);
  await mkdir(join(dir, 'svc', 'authority'), { recursive: true });
  await writeFile(join(dir, 'svc', 'authority', 'dev-signing-key.jwk'), JSON.stringify({ ...jwk, kid: 'test-kid', alg: 'ES256' }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('stella --help', () => {
  it('lists the exit codes', async () => {
    const r = await stella(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Exit codes:\n {2}0 {2}done.*\n {2}1 {2}verification failed.*\n {2}2 {2}usage, input or service error/);
  });
});

describe('progress', () => {
  it('draws one line redrawn in place on a terminal, and nothing otherwise', () => {
    let tty = '';
    const bar = startProgress({ stdout: () => undefined, stderr: (s) => (tty += s), env: {}, cwd: dir, stderrIsTTY: true }, 'download', 2048);
    bar.add(1024);
    bar.add(1024);
    bar.finish();
    bar.finish();
    expect(tty).toMatch(/^\rdownload \[#+\.*\] {2}50% 0\.0\/0\.0 MiB/);
    expect(tty.endsWith(`\rdownload [${'#'.repeat(30)}] 100% 0.0/0.0 MiB${ERASE_LINE}\n`)).toBe(true);
    expect(tty.match(/\n/g)).toHaveLength(1);

    let unknown = '';
    const open = startProgress({ stdout: () => undefined, stderr: (s) => (unknown += s), env: {}, cwd: dir, stderrIsTTY: true }, 'capture');
    open.add(3 * 1024 * 1024);
    open.finish();
    expect(unknown.endsWith(`\rcapture 3.0 MiB${ERASE_LINE}\n`)).toBe(true);

    let pipe = '';
    const none = startProgress({ stdout: () => undefined, stderr: (s) => (pipe += s), env: {}, cwd: dir }, 'download', 10);
    none.add(10);
    none.finish();
    expect(pipe).toBe('');
  });

  it('forensic verify shows it while reading an archive on a terminal only', async () => {
    const tty = await stella(['forensic', 'verify', 'b.tar', '--key', 'keys/signing.pub.pem', '--json'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.err).toMatch(/\rverify \[#{30}\] 100% .*\n$/);
    expect(tty.json()).toMatchObject({ ok: true, container: 'tar' });
    const piped = await stella(['forensic', 'verify', 'b.tar', '--key', 'keys/signing.pub.pem', '--json']);
    expect(piped.code).toBe(0);
    expect(piped.err).toBe('');
    expect(piped.json()).toEqual(tty.json());
  });
});

describe('destinations that cannot hold a file', () => {
  // Each must be refused at once (a recursive mkdir under /proc never returns): a short timeout says so.
  const FAST = 5_000;

  it.runIf(process.platform === 'linux')(
    'under /proc or /sys: keygen, bundle create, key ring, capture',
    async () => {
      for (const argv of [
        ['forensic', 'keygen', '--out', '/proc/stella-test/keys'],
        ['forensic', 'keygen', '--out', '/proc/stella-test'],
        ['forensic', 'bundle', 'create', '--from', 'in', '--kind', 'evaluation', '--key', 'keys/signing.key.pem', '--out', '/proc/x.tar'],
        ['forensic', 'bundle', 'create', '--from', 'in', '--kind', 'evaluation', '--key', 'keys/signing.key.pem', '--out', '/proc/stella-test/deep/bundle'],
        ['forensic', 'keyring', 'init', '--key', 'keys/signing.key.pem', '--out', '/sys/stella-test/ring.json'],
        // Refused before the service is asked for anything: the server here does not even exist.
        ['telemetry', 'capture', '--window', '1h', '--out', '/proc/x', '--server', 'http://127.0.0.1:9', '--token', 't'],
        ['telemetry', 'signing-key', '--out', '/proc/stella-test/capture.pub.pem', '--server', 'http://127.0.0.1:9', '--token', 't'],
      ]) {
        const r = await stella([...argv, '--json']);
        expect(r.code, argv.join(' ')).toBe(2);
        expect(r.json().error, argv.join(' ')).toMatchObject({ code: 'destination_unwritable', message: expect.stringMatching(/(proc|sysfs) pseudo filesystem/) });
      }
      expect(existsSync('/proc/stella-test')).toBe(false);
    },
    FAST,
  );

  it(
    'under a regular file',
    async () => {
      await writeFile(join(dir, 'plain'), 'a file\n');
      const r = await stella(['forensic', 'keygen', '--out', 'plain/keys', '--json']);
      expect(r.code).toBe(2);
      expect(r.json().error).toMatchObject({ code: 'destination_unwritable', message: expect.stringContaining('plain') });
      const s = await stella(['forensic', 'snapshot', 'get', 'b-1', '--out', 'plain/deeper/b.tar', '--server', 'http://127.0.0.1:9', '--token', 't']);
      expect(s.code).toBe(2);
      expect(s.err).toMatch(/cannot write .*plain\/deeper\/b\.tar: .*plain is not a directory \(nothing was asked of the service\)/);
    },
    FAST,
  );
});

describe('public-key flags', () => {
  it('refuse a private key with a clear error instead of deriving its public half', async () => {
    const signer = createKeySigner(await readFile(join(dir, 'keys', 'signing.key.pem'), 'utf8'));
    const statement = jobProvenance({
      jobId: 'job-1',
      builderId: 'https://stella-ops.org/task-runner/test',
      runnerImage: { uri: 'oci://runner', digest: { sha256: 'a'.repeat(64) } },
      outputs: [{ name: 'decision.json', digest: { sha256: 'b'.repeat(64) } }],
      finishedOn: '2025-01-01T00:00:00Z',
    });
    await writeFile(join(dir, 'att.json'), JSON.stringify(await signStatement(statement, signer)));
    // The same commands pass with the public key.
    expect((await stella(['forensic', 'verify', 'b.tar', '--key', 'keys/signing.pub.pem'])).code).toBe(0);
    for (const [argv, flag] of [
      [['forensic', 'verify', 'b.tar', '--key', 'keys/signing.key.pem'], '--key'],
      [['forensic', 'attest', 'verify', 'att.json', '--key', 'keys/signing.key.pem'], '--key'],
      [['telemetry', 'replay', 'b.tar', '--to', 'http://127.0.0.1:9', '--key', 'keys/signing.key.pem'], '--key'],
    ] as const) {
      const r = await stella([...argv, '--json']);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.json().error, argv.join(' ')).toMatchObject({ code: 'private_key_given', message: expect.stringContaining(`${flag} ${join(dir, 'keys', 'signing.key.pem')} is a private key`) });
    }
    expect((await stella(['forensic', 'keyring', 'init', '--key', 'keys/signing.key.pem', '--out', 'ring.json'])).code).toBe(0);
    expect((await stella(['forensic', 'keygen', '--out', 'next'])).code).toBe(0);
    const rotate = await stella(['forensic', 'keyring', 'rotate', '--keyring', 'ring.json', '--key', 'keys/signing.key.pem', '--new-public', 'next/signing.key.pem']);
    expect(rotate.code).toBe(2);
    expect(rotate.err).toMatch(/--new-public .*signing\.key\.pem is a private key/);
    expect(rotate.err).toMatch(/hint: pass the public half/);
    expect(JSON.parse(await readFile(join(dir, 'ring.json'), 'utf8')).log).toHaveLength(1);
  });
});

describe('stella auth token', () => {
  it('names STELLA_DATA_DIR and STELLA_TENANT in its help', async () => {
    const r = await stella(['auth', 'token', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('STELLA_DATA_DIR');
    expect(r.out).toContain('STELLA_TENANT');
  });

  it('takes the data directory and tenant from the environment, and mints the scopes asked for', async () => {
    const r = await stella(['auth', 'token', '--scope', 'timeline:read', 'stella:evidence:admin', '--json'], { env: { STELLA_DATA_DIR: 'svc', STELLA_TENANT: 'acme' } });
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.json().scopes).toEqual(['stella:timeline:read#tenant/acme', 'stella:evidence:admin']);
    const { payload } = await jwtVerify(r.json().token, await (await import('jose')).importJWK(publicKey, 'ES256'), { issuer: 'stella-dev-authority', audience: 'stella-observability' });
    expect(payload.scope).toBe('stella:timeline:read#tenant/acme stella:evidence:admin');
    // Flags win over the environment.
    const flags = await stella(['auth', 'token', '--data-dir', 'svc', '--tenant', 'beta', '--scope', 'obs:read', '--json'], { env: { STELLA_DATA_DIR: 'nowhere', STELLA_TENANT: 'acme' } });
    expect(flags.json().scopes).toEqual(['stella:obs:read#tenant/beta']);
  });

  it('refuses scopes the service does not know, listing the ones it does', async () => {
    for (const scope of ['timeline:delete', 'stella:evidence:destroy#tenant/acme', 'stella:nothing:read']) {
      const r = await stella(['auth', 'token', '--scope', scope, '--json'], { env: { STELLA_DATA_DIR: 'svc', STELLA_TENANT: 'acme' } });
      expect(r.code, scope).toBe(2);
      expect(r.json().error.code).toBe('scope_unknown');
      for (const base of KNOWN_SCOPE_BASES) expect(r.json().error.message).toContain(base.slice('stella:'.length));
    }
    const bad = await stella(['auth', 'token', '--scope', 'not a scope'], { env: { STELLA_DATA_DIR: 'svc', STELLA_TENANT: 'acme' } });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/is not a scope/);
  });

  it('says where the data directory and the tenant come from when neither is given', async () => {
    const noDir = await stella(['auth', 'token', '--tenant', 'acme', '--scope', 'timeline:read']);
    expect(noDir.code).toBe(2);
    expect(noDir.err).toMatch(/--data-dir <dir> or set STELLA_DATA_DIR/);
    const noTenant = await stella(['auth', 'token', '--scope', 'timeline:read'], { env: { STELLA_DATA_DIR: 'svc' } });
    expect(noTenant.code).toBe(2);
    expect(noTenant.err).toMatch(/needs --tenant or STELLA_TENANT/);
    const badTenant = await stella(['auth', 'token', '--scope', 'timeline:read'], { env: { STELLA_DATA_DIR: 'svc', STELLA_TENANT: 'a.b' } });
    expect(badTenant.code).toBe(2);
    expect(badTenant.err).toMatch(/STELLA_TENANT must be 1-64 letters/);
  });
});
