/**
 * Every `stella` command, run against a real listening service: `--json` documents are
 * snake_case all the way down (the signed documents a command shows as they are excepted);
 * service errors exit 2 quoting the service's error_code and message; the key-rotation hint is a
 * command that works; progress bars on downloads, uploads and verification are drawn on a
 * terminal only; `stella telemetry signing-key` saves the key that verifies captures.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createKeySigner, IN_TOTO_STATEMENT_V1, jobProvenance, SLSA_PROVENANCE_V1, signStatement } from '@stellaops/forensics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';

const TENANT = 'acme';
let svc: ReceiverService;
let server: string;
let otlpHttp: string;
let dir: string;
let token: string;
let writer: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON output is asserted field by field
type Json = Record<string, any>;

async function stella(argv: string[], options: { tty?: boolean; env?: Record<string, string> } = {}): Promise<{ code: number; out: string; err: string; json: () => Json }> {
  let out = '';
  let err = '';
  const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env: options.env ?? {}, cwd: dir, stderrIsTTY: options.tty ?? false });
  const code = await run(argv);
  return { code, out, err, json: () => JSON.parse(out) as Json };
}

const service = (argv: string[], as = token): string[] => [...argv, '--server', server, '--token', as];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stella-cli-service-'));
  svc = await startReceiver();
  server = `http://127.0.0.1:${(svc.service.app.server.address() as { port: number }).port}`;
  otlpHttp = `http://127.0.0.1:${svc.ports.http}`;
  token = await svc.token(
    TENANT,
    ['evidence:create', 'evidence:read', 'evidence:export', 'evidence:admin', 'obs:read', 'telemetry:admin', 'incident:admin', 'attest:read', 'attest:create', 'timeline:write', 'dora:write', 'dora:read'].map((s) => `stella:${s}#tenant/${TENANT}`),
  );
  writer = await svc.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  const a = await svc.service.app.inject({
    method: 'POST',
    url: '/evidence/artifacts',
    headers: { authorization: `Bearer ${token}` },
    payload: { resource_type: 'job', resource_id: 'job-1', role: 'transcript', name: 'run.log', media_type: 'text/plain', content_base64: Buffer.from('ran job-1\n').toString('base64') },
  });
  expect(a.statusCode, a.body).toBe(201);
  const sent = await exportWith(new OTLPTraceExporter({ url: `${otlpHttp}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), makeSpans('svc-cli-json'));
  expect(sent.code).toBe(ExportResultCode.SUCCESS);
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'decision.json'), '{"result":"pass"}\n');
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every leaf command of the program, as its words (`forensic snapshot create`). */
function leafCommands(cmd: Command, prefix: string[] = []): string[] {
  return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => (c.commands.length === 0 ? [[...prefix, c.name()].join(' ')] : leafCommands(c, [...prefix, c.name()])));
}

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/**
 * Keys of `doc` that are not snake_case, as paths; the subtrees under `verbatim` (signed documents
 * and telemetry attributes shown as they are) are not walked. In `verbatim`, `[]` stands for any index.
 */
function nonSnakeKeys(doc: unknown, verbatim: readonly string[], at = ''): string[] {
  if (Array.isArray(doc)) return doc.flatMap((d, i) => nonSnakeKeys(d, verbatim, `${at}[${i}]`));
  if (doc === null || typeof doc !== 'object') return [];
  return Object.entries(doc).flatMap(([k, v]) => {
    const path = at ? `${at}.${k}` : k;
    if (verbatim.includes(path.replace(/\[\d+\]/g, '[]'))) return [];
    return [...(SNAKE.test(k) ? [] : [path]), ...nonSnakeKeys(v, verbatim, path)];
  });
}

describe('--json output of every command', () => {
  it('is snake_case all the way down', async () => {
    const docs = new Map<string, Json>();
    /** Runs a command with --json and keeps its document under its command words. */
    const run = async (words: number, argv: string[], expectCode: number | readonly number[] = 0): Promise<Json> => {
      const r = await stella([...argv, '--json']);
      expect([expectCode].flat(), `${argv.join(' ')}\n${r.out}${r.err}`).toContain(r.code);
      const doc = r.json();
      docs.set(argv.slice(0, words).join(' '), doc);
      return doc;
    };

    // Offline.
    const key = await run(2, ['forensic', 'keygen', '--out', 'keys']);
    await run(3, ['forensic', 'bundle', 'create', '--from', 'in', '--kind', 'evaluation', '--key', 'keys/signing.key.pem', '--out', 'b.tar', '--created-at', '2025-01-01T00:00:00Z']);
    await run(2, ['forensic', 'verify', 'b.tar', '--key', 'keys/signing.pub.pem']);
    const signer = createKeySigner(await readFile(join(dir, 'keys', 'signing.key.pem'), 'utf8'));
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(await readFile(join(dir, 'in', 'decision.json'))).digest('hex');
    const statement = jobProvenance({
      jobId: 'job-1',
      builderId: 'https://stella-ops.org/task-runner/test',
      runnerImage: { uri: 'oci://runner', digest: { sha256: 'a'.repeat(64) } },
      outputs: [{ name: 'decision.json', digest: { sha256: digest } }],
      finishedOn: '2025-01-01T00:00:00Z',
    });
    await writeFile(join(dir, 'att.json'), JSON.stringify(await signStatement(statement, signer)));
    await run(3, ['forensic', 'attest', 'verify', 'att.json', '--artifact', 'in/decision.json', '--key', 'keys/signing.pub.pem']);
    await run(3, ['forensic', 'keyring', 'init', '--key', 'keys/signing.key.pem', '--out', 'ring.json', '--at', '2024-12-01T00:00:00Z']);
    await stella(['forensic', 'keygen', '--out', 'keys2']);
    await run(3, ['forensic', 'keyring', 'rotate', '--keyring', 'ring.json', '--key', 'keys/signing.key.pem', '--new-public', 'keys2/signing.pub.pem']);
    await run(3, ['forensic', 'keyring', 'revoke', '--keyring', 'ring.json', '--key', 'keys2/signing.key.pem', '--key-id', key.key_id, '--reason', 'test']);
    await writeFile(
      join(dir, 'slo.yaml'),
      'apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: api-availability\nspec:\n  service: api\n  budgetingMethod: Occurrences\n  indicator:\n    metadata:\n      name: availability\n    spec:\n      ratioMetric:\n        counter: true\n        bad:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: http_server_request_duration_seconds_count{http_response_status_code=~"5.."}\n        total:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: http_server_request_duration_seconds_count\n  objectives:\n    - target: 0.999\n  timeWindow:\n    - duration: 30d\n      isRolling: true\n',
    );
    await run(2, ['slo', 'rules', '--in', 'slo.yaml', '--out', 'slo-rules.yaml', '--tests', 'slo-rules.test.yaml']);
    await run(2, ['federation', 'keygen', '--key-id', 'site-a', '--out', 'fed-keys.json']);
    await run(3, ['federation', 'consent', 'create', '--tenant', TENANT, '--granted-by', 'ciso', '--purpose', 'test', '--granted-at', '2026-01-01T00:00:00Z', '--expires-at', '2027-01-01T00:00:00Z', '--keys', 'fed-keys.json', '--out', 'consent.json']);
    await run(3, ['federation', 'consent', 'verify', 'consent.json', '--keys', 'fed-keys.json']);
    await writeFile(join(dir, 'findings.json'), JSON.stringify([{ advisory_id: 'CVE-2026-0001', vex_status: 'not_affected' }]));
    await run(3, ['federation', 'bundle', 'build', '--consent', 'consent.json', '--keys', 'fed-keys.json', '--findings', 'findings.json', '--created-at', '2026-02-01T00:00:00Z', '--k', '1', '--out', 'bundle.json']);
    await run(3, ['federation', 'bundle', 'verify', 'bundle.json', '--consent', 'consent.json', '--keys', 'fed-keys.json']);
    const deployDir = join(import.meta.dirname, '..', '..', '..', 'deploy');
    await run(2, ['offline-kit', 'build', '--deploy', deployDir, '--key', 'keys/signing.key.pem', '--out', 'kit.tar.gz', '--created-at', '2026-12-01T00:00:00Z']);
    await run(2, ['offline-kit', 'verify', 'kit.tar.gz', '--key', 'keys/signing.pub.pem']);
    await run(2, ['offline-kit', 'import', 'kit.tar.gz', '--target', 'kit-import', '--key', 'keys/signing.pub.pem']);

    // Against the service.
    await run(2, ['auth', 'token', '--data-dir', svc.dataDir, '--tenant', TENANT, '--scope', 'timeline:read']);
    const created = await run(3, service(['forensic', 'snapshot', 'create', '--case', 'case-j', '--scope', 'job-capsule', '--id', 'job-1', '--out', 'snap.tar']));
    await run(3, service(['forensic', 'snapshot', 'get', created.bundle.bundle_id]));
    await run(3, service(['forensic', 'hold', 'place', 'case-j', '--reason', 'review']));
    await run(3, service(['forensic', 'hold', 'release', 'case-j', '--reason', 'done']));
    const att = await svc.service.app.inject({
      method: 'POST',
      url: '/attestations',
      headers: { authorization: `Bearer ${token}` },
      payload: { subject_id: 'job-1', statement: { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: 'out.json', digest: { sha256: 'f'.repeat(64) } }], predicateType: SLSA_PROVENANCE_V1, predicate: {} } },
    });
    expect(att.statusCode, att.body).toBe(201);
    await run(3, service(['forensic', 'attest', 'show', att.json<{ attestation: { id: string } }>().attestation.id]));
    // One custody step on the timeline (indexed from the bus, so polled for): an incomplete chain, exit 1.
    const posted = await svc.service.app.inject({
      method: 'POST',
      url: '/timeline/events',
      headers: { authorization: `Bearer ${token}` },
      payload: { events: [{ kind: 'source.fetched', resource_type: 'sbom', resource_id: 'sbom-1', trace_id: 'b'.repeat(32), details: { custody: { step: 'source.fetch', output_digest: `sha256:${'d'.repeat(64)}` } } }] },
    });
    expect(posted.statusCode, posted.body).toBe(202);
    for (let tries = 0; (await svc.service.app.inject({ method: 'GET', url: '/custody/sbom/sbom-1', headers: { authorization: `Bearer ${token}` } })).statusCode !== 200; tries++) {
      expect(tries, 'the custody step to be indexed').toBeLessThan(500);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await run(2, service(['forensic', 'custody', 'sbom', 'sbom-1']), 1);
    await run(3, service(['forensic', 'keyring', 'export', '--out', 'service-ring.json']));
    await run(2, service(['telemetry', 'capture', '--window', '2h', '--out', 'cap.tar.gz']));
    await run(2, service(['telemetry', 'signing-key', '--out', 'cap.pub.pem']));
    await run(2, ['telemetry', 'replay', 'cap.tar.gz', '--to', otlpHttp, '--key', 'cap.pub.pem', '--token', writer]);
    await run(2, service(['telemetry', 'reindex']));
    await run(3, service(['telemetry', 'quarantine', 'list']));
    await run(3, service(['telemetry', 'quarantine', 'replay']));
    await run(3, service(['telemetry', 'retention', 'show']));
    await run(3, service(['telemetry', 'retention', 'set', '--signal', 'logs', '--hot', '3']));
    await run(3, service(['telemetry', 'incident', 'on', '--ttl', '1h', '--reason', 'test']));
    await run(3, service(['telemetry', 'incident', 'status']));
    await run(3, service(['telemetry', 'incident', 'off', '--reason', 'test']));
    await run(3, service(['telemetry', 'deep-debug', 'on', '--ttl', '30m', '--reason', 'test']));
    await run(3, service(['telemetry', 'deep-debug', 'status']));
    await run(3, service(['telemetry', 'deep-debug', 'off', '--reason', 'test']));
    await run(2, service(['telemetry', 'deploy', '--profile', 'default', '--target', 'otel', '--k8s']));
    await run(3, ['telemetry', 'profile', 'diff', 'default', 'otel']);
    await run(2, service(['telemetry', 'status', '--target', 'otel']));
    await run(2, service(['obs', 'top', '--once']));
    const found = await svc.service.app.inject({ url: '/obs/traces?service=svc-cli-json&limit=1', headers: { authorization: `Bearer ${token}` } });
    await run(2, service(['obs', 'trace', found.json<{ traces: { trace_id: string }[] }>().traces[0]!.trace_id]));
    await run(3, service(['dora', 'record', 'deployment', '--id', 'd-1', '--service', 'checkout', '--env', 'production', '--pipeline', 'Main Line', '--commit-time', '2026-03-01T10:00:00Z', '--deploy-time', '2026-03-01T12:00:00Z', '--outcome', 'rollback']));
    await run(3, service(['dora', 'record', 'incident', '--id', 'i-1', '--env', 'production', '--severity', 'sev2', '--started-at', '2026-03-01T12:30:00Z', '--acknowledged-at', '2026-03-01T12:40:00Z', '--resolved-at', '2026-03-01T13:00:00Z']));
    await run(2, service(['dora', 'metrics', '--env', 'production', '--from', '2026-03-01T00:00:00Z', '--to', '2026-03-02T00:00:00Z']));
    await run(2, service(['dora', 'report', '--env', 'production', '--from', '2026-03-01T00:00:00Z', '--to', '2026-03-02T00:00:00Z']));
    const platform = await svc.token(TENANT, ['stella:evidence:admin']);
    await run(3, service(['forensic', 'key', 'rotate', '--scope', 'platform', '--tenant', TENANT], platform));

    // Every command was run (a new one must join this walk)…
    const { program } = createProgram({ stdout: () => undefined, stderr: () => undefined, env: {}, cwd: dir });
    expect([...docs.keys()].sort()).toEqual(leafCommands(program).sort());
    // …and each document is snake_case, except the signed documents shown verbatim.
    const verbatim: Record<string, readonly string[]> = {
      'forensic snapshot get': ['manifest'], // manifest.json as signed
      'forensic attest show': ['statement'], // the in-toto statement as signed
      'federation consent verify': ['consent'], // the consent payload as signed
      'federation bundle verify': ['bundle', 'consent'], // the bundle and consent payloads as signed
      'telemetry profile diff': ['changes[].before', 'changes[].after'], // Collector configuration as the YAML has it
      // OpenTelemetry attributes and timeline details, as the service stores them
      'obs trace': ['trace.spans[].attributes', 'trace.spans[].resource', 'trace.spans[].events[].attributes', 'trace.spans[].links[].attributes', 'logs.records[].attributes', 'timeline.events[].details'],
    };
    const offenders = [...docs].flatMap(([command, doc]) => nonSnakeKeys(doc, verbatim[command] ?? []).map((k) => `${command}: ${k}`));
    expect(offenders).toEqual([]);
    // The walk sees camelCase where there is some.
    expect(nonSnakeKeys(docs.get('forensic snapshot get'), [])).toContain('manifest.caseId');
    expect(nonSnakeKeys(docs.get('obs trace'), [])).toContain('trace.spans[0].attributes.http.route');
  }, 120_000);
});

describe('service errors', () => {
  it("exit 2 and print the service's error_code and message (capture, replay and the rest alike)", async () => {
    const reader = await svc.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const capture = await stella(service(['telemetry', 'capture', '--window', '1h', '--out', 'denied.tar.gz'], reader));
    expect(capture.code).toBe(2);
    expect(capture.err).toMatch(/GET \/telemetry\/exports\/forensic\/1h → 403 auth\.scope_denied: the token lacks the scope stella:evidence:export#tenant\/acme .*\(trace_id [0-9a-f]{32}\)/);
    expect(capture.err).toMatch(/hint: use a token with stella:evidence:export#tenant\/acme/);

    await stella(service(['telemetry', 'signing-key', '--out', 'replay.pub.pem']));
    await stella(service(['telemetry', 'capture', '--window', '2h', '--out', 'replay.tar.gz']));
    const replay = await stella(['telemetry', 'replay', 'replay.tar.gz', '--to', otlpHttp, '--key', 'replay.pub.pem', '--json']);
    expect(replay.code).toBe(2);
    expect(replay.json().error).toMatchObject({ code: 'auth.token_missing', message: expect.stringMatching(/answered 401 auth\.token_missing: send a bearer token/) });

    const json = await stella([...service(['forensic', 'snapshot', 'get', 'no-such-bundle']), '--json']);
    expect(json.code).toBe(2);
    expect(json.json()).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^[a-z_]+\.[a-z_]+$/), message: expect.stringMatching(/→ 404 /) } });

    const unreachable = await stella(['forensic', 'custody', 'sbom', 'sbom-1', '--server', 'http://127.0.0.1:9', '--token', token]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it('rotating the platform key with a tenant token fails with a hint whose command works', async () => {
    const env = { STELLA_DATA_DIR: svc.dataDir };
    const denied = await stella([...service(['forensic', 'key', 'rotate', '--scope', 'platform', '--tenant', TENANT]), '--json'], { env });
    expect(denied.code).toBe(2);
    const { error } = denied.json();
    expect(error.code).toBe('evidence.platform_scope_required');
    // The hint: stella forensic key rotate … --token "$(stella auth token --scope stella:evidence:admin)".
    const m = /(stella forensic key rotate [^"]+) --token "\$\((stella auth token [^)]+)\)"/.exec(error.hint as string);
    expect(m, error.hint).not.toBeNull();
    const words = (s: string): string[] => s.split(' ').slice(1);
    const minted = await stella(words(m![2]!), { env });
    expect(minted.code, minted.err).toBe(0);
    const rotated = await stella([...words(m![1]!), '--token', minted.out.trim(), '--server', server, '--json'], { env });
    expect(rotated.code, rotated.out).toBe(0);
    expect(rotated.json()).toMatchObject({ ok: true, scope: 'platform', key_id: expect.any(String), previous_key_id: expect.any(String) });
  });
});

describe('progress on long work', () => {
  it('draws on a terminal for the capture download, its verification, an archive download and the replay upload', async () => {
    const capture = await stella(service(['telemetry', 'capture', '--window', '2h', '--out', 'tty.tar.gz']), { tty: true });
    expect(capture.code, capture.out + capture.err).toBe(0);
    expect(capture.err).toMatch(/\rcapture \[#{30}\] 100% .*\n/);
    expect(capture.err).toMatch(/\rverify \[#{30}\] 100% .*\n/);
    const key = await stella(service(['telemetry', 'signing-key', '--out', 'tty.pub.pem']));
    expect(key.code).toBe(0);
    const replay = await stella(['telemetry', 'replay', 'tty.tar.gz', '--to', otlpHttp, '--key', 'tty.pub.pem', '--token', writer], { tty: true });
    expect(replay.code, replay.out + replay.err).toBe(0);
    expect(replay.err).toMatch(/\rreplay \[#{30}\] 100% .*\n/);
    const created = await stella([...service(['forensic', 'snapshot', 'create', '--case', 'case-p', '--scope', 'job-capsule', '--id', 'job-1']), '--json']);
    const get = await stella(service(['forensic', 'snapshot', 'get', created.json().bundle.bundle_id, '--out', 'tty.tar']), { tty: true });
    expect(get.code, get.out + get.err).toBe(0);
    expect(get.err).toMatch(/\rdownload .*MiB.*\n/);
  });

  it('draws nothing when stderr is not a terminal', async () => {
    const capture = await stella(service(['telemetry', 'capture', '--window', '2h', '--out', 'pipe.tar.gz']));
    expect(capture.code).toBe(0);
    const key = await stella(service(['telemetry', 'signing-key', '--out', 'pipe.pub.pem']));
    const replay = await stella(['telemetry', 'replay', 'pipe.tar.gz', '--to', otlpHttp, '--key', 'pipe.pub.pem', '--token', writer]);
    expect(replay.code).toBe(0);
    const created = await stella([...service(['forensic', 'snapshot', 'create', '--case', 'case-q', '--scope', 'job-capsule', '--id', 'job-1', '--out', 'pipe.tar'])]);
    expect(created.code).toBe(0);
    expect([capture.err, key.err, replay.err, created.err]).toEqual(['', '', '', '']);
  });
});

describe('stella telemetry signing-key', () => {
  it('saves the public key that verifies the captures, never over a file', async () => {
    const saved = await stella([...service(['telemetry', 'signing-key', '--out', 'keys/capture.pub.pem']), '--json']);
    expect(saved.code, saved.out).toBe(0);
    const doc = saved.json();
    expect(doc).toMatchObject({ ok: true, key_file: join(dir, 'keys', 'capture.pub.pem'), key_id: expect.stringMatching(/^[0-9a-f]{64}$/), algorithm: 'ecdsa-p256-sha256' });
    const pem = await readFile(join(dir, 'keys', 'capture.pub.pem'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const captured = await stella(service(['telemetry', 'capture', '--window', '2h', '--out', 'sk.tar.gz']));
    expect(captured.code).toBe(0);
    const verified = await stella(['forensic', 'verify', 'sk.tar.gz', '--key', 'keys/capture.pub.pem', '--json']);
    expect(verified.code).toBe(0);
    expect(verified.json()).toMatchObject({ ok: true, signer: { key_id: doc.key_id } });
    const again = await stella([...service(['telemetry', 'signing-key', '--out', 'keys/capture.pub.pem']), '--json']);
    expect(again.code).toBe(2);
    expect(again.json().error.code).toBe('exists');
  });
});
