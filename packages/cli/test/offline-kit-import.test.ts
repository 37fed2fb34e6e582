/**
 * OFF-2 and CORE-7 on the CLI: `stella offline-kit import` verifies a kit (the one verification
 * `verify` runs) and only then writes it into a directory — nothing on a kit that does not verify,
 * nothing outside the target (absolute paths, `..`, links in the archive or in the target), no
 * changed file replaced without --force, the same kit again a no-op — with `import.json` and the
 * host's sealed state. Then the kit end to end on a sealed host: a service started with
 * STELLA_SEALED=true, the kit imported with no network, its scripts run with bash and the real
 * `stella`, a forensic capture replayed into the sealed service and read back, and replays to
 * anything but loopback refused by the egress guard before any request.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compareTarPaths, createKeySigner, END_OF_ARCHIVE, signDsse, tarHeader, tarPadding } from '@stellaops/forensics';
import { createProgram } from '../src/index.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';
import { kitEntries } from './kit-entries.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEPLOY = join(REPO, 'deploy');
const STELLA_BIN = join(REPO, 'packages', 'cli', 'bin', 'stella.js');
const KIT_KEY = ['--key', 'keys/signing.pub.pem'];
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let dir: string;
/** A directory holding only `stella` (a link to the CLI's bin), put first on the scripts' PATH. */
let shim: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
type Json = Record<string, any>;

async function stella(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string; json: () => Json }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env, cwd: dir });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) as Json };
}

/**
 * Runs a kit script with bash, as an operator would: `stella` is the real CLI in its own process.
 * Asynchronous, so the services of this process keep answering while it runs.
 */
function bash(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], {
      cwd: dir,
      env: { PATH: `${shim}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: dir, LANG: 'C.UTF-8', NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

const entries = kitEntries;

/** A tar.gz of `files` in canonical order; `symlinks` are entries of type 2 (a symbolic link to the given target). */
function pack(files: Map<string, Buffer>, symlinks: ReadonlyMap<string, string> = new Map()): Buffer {
  const parts: Buffer[] = [];
  for (const p of [...new Set([...files.keys(), ...symlinks.keys()])].sort(compareTarPaths)) {
    const link = symlinks.get(p);
    const body = link === undefined ? files.get(p)! : Buffer.alloc(0);
    const h = tarHeader(p, body.length, 0);
    if (link !== undefined) {
      h[156] = 0x32; // '2': symbolic link
      h.write(link, 157, 'utf8');
      h.fill(0x20, 148, 156);
      const sum = h.reduce((n, b) => n + b, 0);
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    }
    parts.push(h, body, Buffer.alloc(tarPadding(body.length)));
  }
  return gzipSync(Buffer.concat([...parts, END_OF_ARCHIVE]));
}

/** Every file under `root`, relative, with its mode. */
async function tree(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (d: string, prefix: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, (await lstat(join(d, e.name))).mode & 0o777);
    }
  };
  await walk(root, '');
  return out;
}

let kitBytes: Buffer;
let manifest: { created_at: string; files: { path: string; sha256: string; size: number }[]; collectors: { path: string; sha256: string; size: number }[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-kit-import-'));
  shim = join(dir, 'path');
  await mkdir(shim);
  await symlink(STELLA_BIN, join(shim, 'stella'));
  expect((await stella(['forensic', 'keygen', '--out', 'keys'])).code).toBe(0);
  await writeFile(join(dir, 'otelcol-contrib'), '#!/bin/sh\necho "otelcol-contrib version 0.136.0"\n', { mode: 0o600 });
  const built = await stella(['offline-kit', 'build', '--deploy', DEPLOY, '--key', 'keys/signing.key.pem', '--collector', 'otelcol-contrib', '--out', 'kit.tar.gz', '--created-at', '2026-12-01T00:00:00Z']);
  expect(built.code, built.out + built.err).toBe(0);
  kitBytes = await readFile(join(dir, 'kit.tar.gz'));
  manifest = JSON.parse(entries(kitBytes).get('manifest.json')!.toString('utf8')) as typeof manifest;
  // The same kit with one byte of its Collector binary changed.
  const files = entries(kitBytes);
  const bin = Buffer.from(files.get('collector/otelcol-contrib')!);
  bin[bin.length - 2]! ^= 0x01;
  await writeFile(join(dir, 'tampered.tar.gz'), pack(new Map(files).set('collector/otelcol-contrib', bin)));
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const executable = (p: string): boolean => p.startsWith('collector/') || /^scripts\/[^/]+\.sh$/.test(p);

describe('stella offline-kit import', () => {
  it('verifies, then writes every file of the kit into a fresh directory with exact modes and import.json', { timeout: 60_000 }, async () => {
    const r = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'fresh/kit', ...KIT_KEY, '--json']);
    expect(r.code, r.out + r.err).toBe(0);
    const target = join(dir, 'fresh', 'kit');
    const kitFiles = entries(kitBytes);
    const doc = r.json();
    expect(doc).toMatchObject({
      ok: true,
      imported: true,
      already_imported: false,
      target,
      kit_sha256: sha256(kitBytes),
      manifest_sha256: sha256(kitFiles.get('manifest.json')!),
      key_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      sealed: false,
      files: manifest.files.length + 2,
      written: manifest.files.length + 2,
      unchanged: 0,
      overwritten: 0,
      collectors: manifest.collectors,
      record: join(target, 'import.json'),
    });
    const written = await tree(target);
    expect([...written.keys()].sort()).toEqual([...kitFiles.keys(), 'import.json'].sort());
    for (const [p, body] of kitFiles) {
      expect(await readFile(join(target, p)), p).toEqual(body);
      expect(written.get(p), p).toBe(executable(p) ? 0o755 : 0o644);
    }
    expect(written.get('collector/otelcol-contrib')).toBe(0o755);
    expect(written.get('scripts/replay.sh')).toBe(0o755);

    const record = JSON.parse(await readFile(join(target, 'import.json'), 'utf8')) as Json;
    expect(record).toMatchObject({
      format: 'stellaops.offline-kit-import/v1',
      kit: join(dir, 'kit.tar.gz'),
      kit_sha256: doc.kit_sha256,
      manifest_sha256: doc.manifest_sha256,
      created_at: '2026-12-01T00:00:00.000Z',
      key_id: doc.key_id,
      imported_at: doc.imported_at,
      sealed: false,
      collectors: manifest.collectors,
    });
    expect(Date.now() - Date.parse(record.imported_at as string)).toBeLessThan(60_000);
    expect(record.files).toHaveLength(manifest.files.length + 2);
    expect(record.files).toContainEqual({ path: 'collector/otelcol-contrib', sha256: manifest.collectors[0]!.sha256, size: manifest.collectors[0]!.size, mode: '0755' });
    expect(record.files).toContainEqual(expect.objectContaining({ path: 'deploy/slo/services.yaml', mode: '0644' }));
  });

  it('imports the same kit again without changing a byte, refuses a changed file without --force, and --force puts it back', { timeout: 60_000 }, async () => {
    const target = join(dir, 'fresh', 'kit');
    const record = await readFile(join(target, 'import.json'));
    const again = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'fresh/kit', ...KIT_KEY]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/^offline kit .*kit\.tar\.gz verified; already imported into .*fresh\/kit at \S+: all \d+ files unchanged\n/);
    expect(again.out).toContain('NOT a sealed host');
    expect(await readFile(join(target, 'import.json'))).toEqual(record);

    const rules = join(target, 'deploy', 'rules', 'stella-alerts.yaml');
    const original = await readFile(rules);
    await writeFile(rules, `${original.toString('utf8')}# edited on the host\n`);
    const refused = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'fresh/kit', ...KIT_KEY, '--json']);
    expect(refused.code).toBe(2);
    expect(refused.json().error).toMatchObject({ code: 'target_differs', message: `${rules} already exists with different content; nothing was written`, hint: expect.stringContaining('--force') });
    expect((await readFile(rules, 'utf8')).endsWith('# edited on the host\n')).toBe(true);
    expect(await readFile(join(target, 'import.json'))).toEqual(record);

    const forced = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'fresh/kit', ...KIT_KEY, '--force', '--json']);
    expect(forced.code, forced.out).toBe(0);
    expect(forced.json()).toMatchObject({ ok: true, already_imported: false, written: 0, overwritten: 1, unchanged: manifest.files.length + 1 });
    expect(await readFile(rules)).toEqual(original);
  });

  it('refuses a tampered kit, naming the file, and writes nothing', { timeout: 60_000 }, async () => {
    const files = entries(kitBytes);
    const r = await stella(['offline-kit', 'import', 'tampered.tar.gz', '--target', 'tampered/kit', ...KIT_KEY, '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, imported: false, failures: [{ path: 'collector/otelcol-contrib', code: 'digest_mismatch' }] });
    expect(existsSync(join(dir, 'tampered'))).toBe(false);
    const human = await stella(['offline-kit', 'import', 'tampered.tar.gz', '--target', 'fresh/kit', ...KIT_KEY]);
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/does NOT verify; nothing was imported into .*fresh\/kit:\n {2}collector\/otelcol-contrib: digest_mismatch: /);
    // The good import beside it is untouched.
    expect(await readFile(join(dir, 'fresh', 'kit', 'collector', 'otelcol-contrib'))).toEqual(files.get('collector/otelcol-contrib'));
  });

  it('refuses a hostile archive — an absolute path, "..", a symbolic link, an import.json — even signed by the trusted key, writing nothing anywhere', { timeout: 60_000 }, async () => {
    const outside = `/tmp/stella-kit-abs-${process.pid}-${Date.now()}.txt`;
    const hostile = new Map<string, Buffer>([
      ['README.md', Buffer.from('looks like a kit\n')],
      ['../escape.txt', Buffer.from('written beside the target\n')],
      [outside, Buffer.from('written anywhere\n')],
      ['import.json', Buffer.from('{"kit_sha256":"forged"}\n')],
    ]);
    const links = new Map([['scripts/replay.sh', '/etc/passwd']]);
    const list = [...hostile.entries(), ['scripts/replay.sh', Buffer.alloc(0)] as const].map(([p, b]) => ({ path: p, sha256: sha256(b), size: b.length }));
    const manifestBytes = Buffer.from(`${JSON.stringify({ format: 'stellaops.offline-kit/v1', created_at: '2026-12-01T00:00:00.000Z', files: list, collectors: [] }, null, 2)}\n`);
    const signer = createKeySigner(await readFile(join(dir, 'keys', 'signing.key.pem'), 'utf8'));
    const envelope = await signDsse(manifestBytes, 'application/vnd.stellaops.offline-kit-manifest+json', signer);
    hostile.set('manifest.json', manifestBytes).set('manifest.json.dsse.json', Buffer.from(JSON.stringify(envelope)));
    await writeFile(join(dir, 'hostile.tar.gz'), pack(hostile, links));

    const r = await stella(['offline-kit', 'import', 'hostile.tar.gz', '--target', 'hostile/in/kit', ...KIT_KEY, '--json']);
    expect(r.code, r.out).toBe(1);
    const failures = (r.json().failures as Json[]).map((f) => [f.path, f.code]);
    expect(failures).toEqual(
      expect.arrayContaining([
        ['../escape.txt', 'path_unsafe'],
        [outside, 'path_unsafe'],
        ['scripts/replay.sh', 'entry_symlink'],
        ['import.json', 'path_reserved'],
      ]),
    );
    // The signature itself was good: the refusals are the entries'.
    expect(failures.map(([, code]) => code)).not.toContain('signature_invalid');
    expect(existsSync(join(dir, 'hostile'))).toBe(false);
    expect(existsSync(outside)).toBe(false);
    // verify reports the same, through the same code path.
    const v = await stella(['offline-kit', 'verify', 'hostile.tar.gz', ...KIT_KEY, '--json']);
    expect(v.code).toBe(1);
    expect(v.json().failures).toEqual(r.json().failures);
  });

  it('never writes through a symbolic link already in the target', { timeout: 60_000 }, async () => {
    await mkdir(join(dir, 'linked', 'kit'), { recursive: true });
    await mkdir(join(dir, 'elsewhere'));
    await symlink(join(dir, 'elsewhere'), join(dir, 'linked', 'kit', 'scripts'));
    const r = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'linked/kit', ...KIT_KEY, '--force', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'target_unsafe', message: `${join(dir, 'linked', 'kit', 'scripts')} is a symbolic link; a kit is never written through a link; nothing was written` });
    expect(await readdir(join(dir, 'elsewhere'))).toEqual([]);
    expect(await readdir(join(dir, 'linked', 'kit'))).toEqual(['scripts']);
  });

  it('explains itself in --help with an example, and needs a key', async () => {
    const help = await stella(['offline-kit', 'import', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: stella offline-kit import [options] <kit>');
    expect(help.out).toContain('Example:\n  STELLA_SEALED=true stella offline-kit import kit.tar.gz --target /opt/stellaops/offline-kit --key kit-signing.pub.pem');
    const keyless = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'keyless', '--json']);
    expect(keyless.code).toBe(2);
    expect(keyless.json().error.code).toBe('usage');
    expect(existsSync(join(dir, 'keyless'))).toBe(false);
  });
});

/** An address of this host that is not loopback (for a listener the guard must refuse), if it has one. */
const nonLoopback = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('the Offline Kit on a sealed host, end to end', () => {
  const TENANT = 'acme';
  const ENCLAVE = 'enclave';
  let source: ReceiverService;
  let sealed: ReceiverService;
  let counting: Server | undefined;
  let countingUrl = '';
  const counted: string[] = [];
  const SEALED = { STELLA_SEALED: 'true' };

  beforeAll(async () => {
    // The connected installation the capture comes from, and the sealed one it is replayed into.
    source = await startReceiver();
    sealed = await startReceiver(SEALED);
    if (nonLoopback) {
      // Stands for a receiver outside the host: it counts every request that reaches it.
      counting = createServer((req, res) => {
        counted.push(`${req.method} ${req.url}`);
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
      });
      await new Promise<void>((resolve) => counting!.listen(0, nonLoopback, resolve));
      countingUrl = `http://${nonLoopback}:${(counting.address() as AddressInfo).port}`;
    }
  }, 60_000);

  afterAll(async () => {
    counting?.closeAllConnections();
    await new Promise((resolve) => (counting ? counting.close(resolve) : resolve(undefined)));
    await source?.stop();
    await sealed?.stop();
  });

  it('imports with no network, bootstraps, replays a capture into the sealed service with the kit script, and refuses any other receiver before a request', { timeout: 300_000 }, async () => {
    // The sealed service says it is sealed.
    const reader = await sealed.token(ENCLAVE, [`stella:obs:read#tenant/${ENCLAVE}`]);
    const status = await sealed.service.app.inject({ url: '/telemetry/status', headers: { authorization: `Bearer ${reader}` } });
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json<{ sealed: boolean }>().sealed).toBe(true);

    // A capture on the connected side: spans of one service, then the signed capture and its key.
    const sourceServer = `http://127.0.0.1:${(source.service.app.server.address() as AddressInfo).port}`;
    const writer = await source.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
    const exported = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${source.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), makeSpans('kit-replay-e2e'));
    expect(exported.code).toBe(ExportResultCode.SUCCESS);
    const admin = await source.token(TENANT, ['evidence:export', 'obs:read'].map((s) => `stella:${s}#tenant/${TENANT}`));
    const captured = await stella(['telemetry', 'capture', '--window', '2h', '--out', 'incident.tar.gz', '--server', sourceServer, '--token', admin, '--json']);
    expect(captured.code, captured.out + captured.err).toBe(0);
    expect(captured.json().counts.traces.items).toBe(2);
    expect((await stella(['telemetry', 'signing-key', '--out', 'capture.pub.pem', '--server', sourceServer, '--token', admin])).code).toBe(0);
    const sourceTraces = await source.service.app.inject({ url: '/obs/traces?service=kit-replay-e2e&limit=10', headers: { authorization: `Bearer ${admin}` } });
    const traceIds = sourceTraces.json<{ traces: { trace_id: string }[] }>().traces.map((t) => t.trace_id);
    expect(traceIds).toHaveLength(1);

    // The kit imported on the sealed host, with no network at all: any request would throw.
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(() => Promise.reject(new Error('no network on a sealed host')));
    const imported = await stella(['offline-kit', 'import', 'kit.tar.gz', '--target', 'site/kit', ...KIT_KEY, '--json'], SEALED);
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
    expect(imported.code, imported.out).toBe(0);
    expect(imported.json()).toMatchObject({ ok: true, sealed: true });
    const site = join(dir, 'site', 'kit');
    expect(JSON.parse(await readFile(join(site, 'import.json'), 'utf8'))).toMatchObject({ sealed: true, kit_sha256: sha256(kitBytes) });

    // import.sh from the kit: the same import into another directory, again (a no-op), and a tampered kit refused.
    const viaScript = await bash(join(site, 'scripts', 'import.sh'), ['kit.tar.gz', '--target', 'site2/kit', ...KIT_KEY], SEALED);
    expect(viaScript.code, viaScript.out + viaScript.err).toBe(0);
    expect(viaScript.out).toContain(`and imported into ${join(dir, 'site2', 'kit')}: ${manifest.files.length + 2} files (${manifest.files.length + 2} written, 0 unchanged, 0 overwritten)`);
    expect(viaScript.out).toContain('sealed host (STELLA_SEALED=true): exporters and replays reach loopback only');
    expect((await tree(join(dir, 'site2', 'kit'))).get('scripts/replay.sh')).toBe(0o755);
    const viaScriptAgain = await bash(join(site, 'scripts', 'import.sh'), ['kit.tar.gz', '--target', 'site2/kit', ...KIT_KEY, '--json'], SEALED);
    expect(viaScriptAgain.code).toBe(0);
    expect(JSON.parse(viaScriptAgain.out)).toMatchObject({ already_imported: true, written: 0, sealed: true });
    const viaScriptBad = await bash(join(site, 'scripts', 'import.sh'), ['tampered.tar.gz', '--target', 'site3/kit', ...KIT_KEY], SEALED);
    expect(viaScriptBad.code).toBe(1);
    expect(viaScriptBad.out).toContain('collector/otelcol-contrib: digest_mismatch');
    expect(existsSync(join(dir, 'site3'))).toBe(false);

    // bootstrap.sh from the imported kit: prerequisites, the kit verifies, import.json records it, the host is sealed.
    const boot = await bash(join(site, 'scripts', 'bootstrap.sh'), ['--kit', 'kit.tar.gz', ...KIT_KEY], SEALED);
    expect(boot.code, boot.out + boot.err).toBe(0);
    expect(boot.out).toMatch(/^ok {3}node \d+\.\d+\.\d+$/m);
    expect(boot.out).toMatch(/^ok {3}stella 0\.1\.0 /m);
    expect(boot.out).toContain(`offline kit ${join(dir, 'kit.tar.gz')} verifies: manifest signed`);
    expect(boot.out).toContain(`ok   import.json records this kit (sha256 ${sha256(kitBytes)})`);
    expect(boot.out).toContain(`ok   collector binary ${join(site, 'collector', 'otelcol-contrib')} is executable`);
    expect(boot.out).toContain('ok   STELLA_SEALED=true');
    expect(boot.out).toContain(`bash ${join(site, 'scripts', 'replay.sh')} <capture.tar.gz>`);
    // …and it stops on a kit that does not verify.
    const badBoot = await bash(join(site, 'scripts', 'bootstrap.sh'), ['--kit', 'tampered.tar.gz', ...KIT_KEY], SEALED);
    expect(badBoot.code).toBe(1);
    expect(badBoot.out).toContain('collector/otelcol-contrib: digest_mismatch');

    // replay.sh: verify, then replay into the sealed service's OTLP/HTTP receiver on 127.0.0.1.
    const enclaveWriter = await sealed.token(ENCLAVE, [`stella:telemetry:write#tenant/${ENCLAVE}`]);
    const before = await sealed.service.app.inject({ url: '/obs/traces?service=kit-replay-e2e&limit=10', headers: { authorization: `Bearer ${reader}` } });
    expect(before.json<{ traces: unknown[] }>().traces).toEqual([]);
    const replay = await bash(join(site, 'scripts', 'replay.sh'), ['incident.tar.gz', '--key', 'capture.pub.pem', '--to', `http://127.0.0.1:${sealed.ports.http}`, '--token', enclaveWriter], SEALED);
    expect(replay.code, replay.out + replay.err).toBe(0);
    expect(replay.out).toMatch(/== 1\/2 verify incident\.tar\.gz .*\nVALID incident\.tar\.gz/);
    expect(replay.out).toContain(`== 2/2 replay into http://127.0.0.1:${sealed.ports.http} (stella telemetry replay; STELLA_SEALED=true)`);
    expect(replay.out).toMatch(/replayed to http:\/\/127\.0\.0\.1:\d+\n {2}traces: 1 request\(s\)/);
    // The records arrived, read back through the service's API: the same trace, both spans.
    let replayed: string[] = [];
    for (let tries = 0; replayed.length === 0; tries++) {
      expect(tries, 'the replayed trace to be indexed').toBeLessThan(200);
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const found = await sealed.service.app.inject({ url: '/obs/traces?service=kit-replay-e2e&limit=10', headers: { authorization: `Bearer ${reader}` } });
      replayed = found.json<{ traces: { trace_id: string }[] }>().traces.map((t) => t.trace_id);
    }
    expect(replayed).toEqual(traceIds);
    const trace = await sealed.service.app.inject({ url: `/obs/trace/${traceIds[0]}`, headers: { authorization: `Bearer ${reader}` } });
    expect(trace.statusCode, trace.body).toBe(200);
    expect(trace.json<{ spans: { name: string }[] }>().spans.map((s) => s.name).sort()).toEqual(['GET /policy/evaluate', 'policy.evaluate']);

    // Anything but loopback: the script refuses it before stella runs…
    const scripted = await bash(join(site, 'scripts', 'replay.sh'), ['incident.tar.gz', '--key', 'capture.pub.pem', '--to', 'http://192.0.2.1:4318', '--token', enclaveWriter], SEALED);
    expect(scripted.code).toBe(2);
    expect(scripted.err).toContain('replay.sh: --to http://192.0.2.1:4318: 192.0.2.1 is not a loopback address');
    expect(scripted.out).toBe('');

    // …and stella itself, sealed, refuses it before reading the capture or sending a byte.
    const spy = vi.spyOn(globalThis, 'fetch');
    const refused = await stella(['telemetry', 'replay', 'incident.tar.gz', '--to', 'http://192.0.2.1:4318', '--key', 'capture.pub.pem', '--token', enclaveWriter, '--json'], SEALED);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(refused.code).toBe(2);
    expect(refused.json().error).toEqual({
      code: 'sealed_egress_blocked',
      message: 'sealed installation (STELLA_SEALED=true): replay to http://192.0.2.1:4318/ refused (non_loopback_address): 192.0.2.1 is not a loopback address; nothing was sent',
      hint: expect.stringMatching(/^point the exporter at a loopback collector .* \(no STELLA_TELEMETRY_POLICY file is set, so nothing is allowlisted\); a replay on a sealed host goes to the local service, e.g\. --to http:\/\/127\.0\.0\.1:4318$/),
    });
    // Not sealed, the same endpoint is not the guard's to refuse (it is only unreachable here; not tried).
  });

  it.runIf(nonLoopback !== undefined)(
    'a real receiver on a non-loopback address of this host gets nothing from a sealed replay, and gets the records once the telemetry policy allowlists it',
    { timeout: 120_000 },
    async () => {
      // The stella process of an operator's shell, sealed (the capture and its key come from the test above): refused, and the receiver saw nothing.
      const run = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn('stella', ['telemetry', 'replay', 'incident.tar.gz', '--to', countingUrl, '--key', 'capture.pub.pem', '--token', 'not-needed'], {
          cwd: dir,
          env: { PATH: `${shim}:${process.env['PATH'] ?? ''}`, HOME: dir, NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? '', ...SEALED },
        });
        let err = '';
        p.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
        p.on('close', (code) => resolve({ code, err }));
      });
      expect(run.code, run.err).toBe(2);
      expect(run.err).toContain(`stella: sealed installation (STELLA_SEALED=true): replay to ${countingUrl}/ refused (non_loopback_address): ${nonLoopback} is not a loopback address; nothing was sent\n  hint: point the exporter at a loopback collector`);
      expect(counted).toEqual([]);

      // The telemetry policy's egress allowlist is the one way out, for the CLI as for the services.
      const policy = join(dir, 'telemetry-policy.yaml');
      await writeFile(policy, `version: 1\negress:\n  allowlist: ["${nonLoopback}"]\n`);
      const allowed = await stella(['telemetry', 'replay', 'incident.tar.gz', '--to', countingUrl, '--key', 'capture.pub.pem', '--json'], { ...SEALED, STELLA_TELEMETRY_POLICY: policy });
      expect(allowed.code, allowed.out).toBe(0);
      expect(allowed.json().sent.traces.requests).toBe(1);
      expect(counted).toContain('POST /v1/traces');
      // A policy file that cannot be read fails closed.
      const broken = await stella(['telemetry', 'replay', 'incident.tar.gz', '--to', countingUrl, '--key', 'capture.pub.pem', '--json'], { ...SEALED, STELLA_TELEMETRY_POLICY: join(dir, 'no-such-policy.yaml') });
      expect(broken.code).toBe(2);
      expect(broken.json().error.code).toBe('telemetry_policy_invalid');
      expect((await stat(policy)).isFile()).toBe(true);
    },
  );
});
