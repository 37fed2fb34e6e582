/**
 * COL-3/COL-4, CLI-3: `stella telemetry deploy` against a listening service writes a profile
 * only once it verifies, refuses a different existing file without --force (the same content is
 * a no-op), writes a deterministic ConfigMap with --k8s; `profile diff` compares names, files and
 * deployed directories semantically; `status` reports the service and the signature status of
 * each deployed profile — verified, tampered (a byte flipped in the YAML or the envelope),
 * missing.
 */
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileConfigMap, profileDigest, renderProfile, serializeProfileEnvelope } from '@stellaops/collector-config';
import { createProgram } from '../src/index.js';
import { startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';

const TENANT = 'acme';
let svc: ReceiverService;
let server: string;
let dir: string;
let admin: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
type Json = Record<string, any>;

async function stella(argv: string[]): Promise<{ code: number; out: string; err: string; json: () => Json }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: {}, cwd: dir });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) as Json };
}

const service = (argv: string[], token = admin): string[] => [...argv, '--server', server, '--token', token, '--tenant', TENANT];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-profiles-'));
  svc = await startReceiver();
  server = `http://127.0.0.1:${(svc.service.app.server.address() as { port: number }).port}`;
  admin = await svc.token(TENANT, ['telemetry:admin', 'evidence:read', 'obs:read'].map((s) => `stella:${s}#tenant/${TENANT}`));
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await rm(dir, { recursive: true, force: true });
});

function flipByte(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0x01;
  return c;
}

describe('stella telemetry deploy, profile diff, status', () => {
  it('deploys a verified profile, diffs it and reports it verified; then tampered and missing', { timeout: 120_000 }, async () => {
    const deployed = await stella(service(['telemetry', 'deploy', '--profile', 'default', '--target', 'otel/default', '--json']));
    expect(deployed.code, deployed.out + deployed.err).toBe(0);
    const doc = deployed.json();
    const yaml = renderProfile('default').yaml;
    expect(doc).toMatchObject({ ok: true, profile: 'default', verified: true, profile_digest: profileDigest(yaml), sealed: false, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(doc.files.map((f: Json) => [f.path.slice(dir.length + 1), f.outcome])).toEqual([
      ['otel/default/config.yaml', 'written'],
      ['otel/default/config.yaml.dsse.json', 'written'],
    ]);
    expect(await readFile(join(dir, 'otel/default/config.yaml'), 'utf8')).toBe(yaml);
    // The key ring exported for offline use verifies the same way.
    expect((await stella(service(['forensic', 'keyring', 'export', '--out', 'ring.json']))).code).toBe(0);
    const offline = await stella(service(['telemetry', 'deploy', '--profile', 'forensic', '--target', 'otel/forensic', '--keyring', 'ring.json']));
    expect(offline.code, offline.err).toBe(0);
    expect(offline.out).toMatch(/^profile forensic \(otelcol-contrib 0\.136\.0\) verified: sha256:[0-9a-f]{64}, signed by [0-9a-f]{64} \(key ring .*ring\.json\)\n {2}written {5}.*config\.yaml\n/);
    expect(offline.out).toMatch(/trace_id [0-9a-f]{32}\n$/);

    // Semantic diff: two names, a name and a deployed directory, a file against itself.
    const names = await stella(['telemetry', 'profile', 'diff', 'default', 'forensic', '--json']);
    expect(names.code).toBe(0);
    expect(names.json()).toMatchObject({ ok: true, a: 'profile default', b: 'profile forensic', identical: false });
    expect(names.json().changes).toContainEqual({ kind: 'changed', path: 'processors.tail_sampling.decision_wait', before: '10s', after: '30s' });
    const same = await stella(['telemetry', 'profile', 'diff', 'default', 'otel/default']);
    expect(same.code).toBe(0);
    expect(same.out).toBe(`profile default and ${join(dir, 'otel/default/config.yaml')} configure the Collector alike\n`);
    const text = await stella(['telemetry', 'profile', 'diff', 'otel/default', 'otel/forensic/config.yaml']);
    expect(text.out).toContain('~ processors.tail_sampling.decision_wait: "10s" → "30s"');
    const unknown = await stella(['telemetry', 'profile', 'diff', 'default', 'nothing-here', '--json']);
    expect(unknown.code).toBe(2);
    expect(unknown.json().error).toEqual({ code: 'not_found', message: 'nothing-here is neither a file nor a profile (default, forensic, airgap)' });

    const status = await stella(service(['telemetry', 'status', '--target', 'otel/default', '--target', 'otel/forensic', '--keyring', 'ring.json', '--json']));
    expect(status.code, status.out).toBe(0);
    expect(status.json()).toMatchObject({
      ok: true,
      live: true,
      ready: true,
      incident_mode: { available: true, modes: [] },
      ingest_rates: { available: true, error: null },
      sealed: { service: false, profiles: false },
      profiles: [
        { profile: 'default', status: 'verified', digest: profileDigest(yaml) },
        { profile: 'forensic', status: 'verified' },
      ],
    });
    expect(Object.keys(status.json().ingest)).toEqual(['accepted_total', 'refused_total', 'quarantined_total']);
    expect(status.json().ingest_rates.windows.map((w: Json) => w.window_seconds)).toEqual([60, 300]);
    expect(Object.keys(status.json().ingest_rates.windows[0].signals)).toEqual(['traces', 'metrics', 'logs']);
    const human = await stella(service(['telemetry', 'status', '--target', 'otel/default', '--keyring', 'ring.json']));
    expect(human.out).toMatch(/\ningest now: last 60 s: traces [\d.]+\/s.*; last 300 s: traces /);
    expect(human.out).toContain('\nservice sealed: no\n');
    // Without stella:obs:read or stella:telemetry:admin the rates and the service's sealed state are unavailable, not guessed.
    const narrow = await svc.token(TENANT, ['evidence:read'].map((s) => `stella:${s}#tenant/${TENANT}`));
    const limited = await stella(service(['telemetry', 'status', '--target', 'otel/default', '--keyring', 'ring.json', '--json'], narrow));
    expect(limited.json()).toMatchObject({ ingest_rates: { available: false, windows: [] }, sealed: { service: null, profiles: false } });

    // A byte flipped in the YAML: tampered, exit 1, naming both digests.
    const cfg = join(dir, 'otel/default/config.yaml');
    const original = await readFile(cfg);
    const flipped = flipByte(original, original.indexOf('receivers:') + 3);
    await writeFile(cfg, flipped);
    const tampered = await stella(service(['telemetry', 'status', '--target', 'otel/default', '--keyring', 'ring.json', '--json']));
    expect(tampered.code).toBe(1);
    expect(tampered.json().profiles[0]).toMatchObject({
      status: 'tampered',
      code: 'profile.yaml_mismatch',
      message: `the YAML (${profileDigest(flipped)}) is not the profile the envelope signs (${profileDigest(original)})`,
    });
    await writeFile(cfg, original);

    // A byte changed in the envelope's signature: tampered.
    const envFile = join(dir, 'otel/default/config.yaml.dsse.json');
    const envText = await readFile(envFile, 'utf8');
    const at = envText.indexOf('"sig": "') + '"sig": "'.length + 20;
    await writeFile(envFile, `${envText.slice(0, at)}${envText[at] === 'A' ? 'B' : 'A'}${envText.slice(at + 1)}`);
    const badSig = await stella(service(['telemetry', 'status', '--target', 'otel/default', '--keyring', 'ring.json']));
    expect(badSig.code).toBe(1);
    expect(badSig.out).toMatch(/profile default in .*otel\/default: TAMPERED — the signature envelope does not verify: /);

    // No envelope at all: missing.
    await unlink(envFile);
    const missing = await stella(service(['telemetry', 'status', '--target', 'otel/default', '--keyring', 'ring.json', '--json']));
    expect(missing.code).toBe(1);
    expect(missing.json().profiles[0]).toMatchObject({ status: 'missing', code: 'profile.signature_missing' });
    await writeFile(envFile, envText);
  });

  it('refuses to overwrite a different file without --force; the same content is a no-op', { timeout: 60_000 }, async () => {
    expect((await stella(service(['telemetry', 'deploy', '--profile', 'airgap', '--target', 'otel/a']))).code).toBe(0);
    const again = await stella(service(['telemetry', 'deploy', '--profile', 'airgap', '--target', 'otel/a', '--json']));
    expect(again.code).toBe(0);
    expect(again.json().files.map((f: Json) => f.outcome)).toEqual(['unchanged', 'unchanged']);

    const refused = await stella(service(['telemetry', 'deploy', '--profile', 'default', '--target', 'otel/a', '--json']));
    expect(refused.code).toBe(2);
    expect(refused.json().error).toEqual({
      code: 'target_differs',
      message: `${join(dir, 'otel/a/config.yaml')}, ${join(dir, 'otel/a/config.yaml.dsse.json')} already exist with different content; nothing was written`,
      hint: 'compare with stella telemetry profile diff, then pass --force to replace them',
    });
    expect(await readFile(join(dir, 'otel/a/config.yaml'), 'utf8')).toBe(renderProfile('airgap').yaml);

    const forced = await stella(service(['telemetry', 'deploy', '--profile', 'default', '--target', 'otel/a', '--force', '--json']));
    expect(forced.code).toBe(0);
    expect(forced.json().files.map((f: Json) => f.outcome)).toEqual(['overwritten', 'overwritten']);
    expect(await readFile(join(dir, 'otel/a/config.yaml'), 'utf8')).toBe(renderProfile('default').yaml);
  });

  it('writes the same ConfigMap bytes every time with --k8s, holding the verified config and envelope', { timeout: 60_000 }, async () => {
    const a = await stella(service(['telemetry', 'deploy', '--profile', 'forensic', '--target', 'k8s/a', '--k8s', '--namespace', 'observability', '--json']));
    const b = await stella(service(['telemetry', 'deploy', '--profile', 'forensic', '--target', 'k8s/b', '--k8s', '--namespace', 'observability', '--json']));
    expect(a.code, a.out).toBe(0);
    expect(b.code).toBe(0);
    const cmA = await readFile(join(dir, 'k8s/a/configmap.yaml'), 'utf8');
    expect(await readFile(join(dir, 'k8s/b/configmap.yaml'), 'utf8')).toBe(cmA);
    const yaml = await readFile(join(dir, 'k8s/a/config.yaml'), 'utf8');
    const envelope = JSON.parse(await readFile(join(dir, 'k8s/a/config.yaml.dsse.json'), 'utf8'));
    expect(cmA).toBe(profileConfigMap({ name: 'forensic', profile_digest: profileDigest(yaml), yaml, envelope }, { namespace: 'observability' }));
    expect(serializeProfileEnvelope(envelope)).toBe(await readFile(join(dir, 'k8s/a/config.yaml.dsse.json'), 'utf8'));
    expect(cmA.split('\n').slice(0, 12).join('\n')).toBe(
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: stellaops-otelcol-forensic',
        '  namespace: observability',
        '  labels:',
        '    app.kubernetes.io/component: otel-collector',
        '    app.kubernetes.io/part-of: stellaops',
        '    stellaops.io/collector-profile: forensic',
        '  annotations:',
        `    stellaops.io/profile-digest: ${profileDigest(yaml)}`,
        'data:',
      ].join('\n'),
    );
    expect(cmA).toContain('  config.yaml: |\n    # OpenTelemetry Collector configuration: StellaOps profile "forensic"');
  });

  it('answers a token without stella:telemetry:admin and an unknown profile with the service error, exit 2', { timeout: 60_000 }, async () => {
    const reader = await svc.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const denied = await stella(service(['telemetry', 'deploy', '--profile', 'default', '--target', 'otel/denied', '--json'], reader));
    expect(denied.code).toBe(2);
    expect(denied.json().error.code).toBe('auth.scope_denied');
    const unknown = await stella(service(['telemetry', 'deploy', '--profile', 'verbose', '--target', 'otel/unknown', '--json']));
    expect(unknown.code).toBe(2);
    expect(unknown.json().error).toMatchObject({ code: 'profile.not_found', message: expect.stringContaining('no Collector profile is named "verbose"; the profiles are default, forensic, airgap') });
  });
});
