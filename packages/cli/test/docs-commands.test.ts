/**
 * The CLI pages and the incident runbook say their `sh` blocks run as written, in order: this
 * runs them, each page in an empty directory with bash (`set -euo pipefail`), against a live
 * service seeded with what the pages assume (telemetry of tenant acme; an evaluation eval-42 with
 * an artifact and a verified chain of custody). Only the addresses differ: the pages' default
 * URLs and `./.stella` stand for this service's. `stella` in those scripts reaches the CLI in
 * this process through a small local bridge (one process start per command would take minutes);
 * every command must exit 0.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { jobProvenance } from '@stellaops/forensics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/index.js';
import { exportWith, makeSpans, startReceiver, type ReceiverService } from '../../server/test/otlp/otlp-helpers.js';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs');
const PAGES = ['cli-forensics.md', 'cli-observability.md', 'runbooks/incidents.md'];
const TENANT = 'acme';

/** The shell tools the pages use besides stella. */
const tools = ['bash', 'curl', 'jq', 'openssl', 'sha256sum'];
const missing = tools.filter((t) => {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});

let svc: ReceiverService;
let bridge: Server;
let bridgeUrl: string;
const runs: { page: string; argv: string[]; code: number; err: string }[] = [];
let page = '';

/** The `sh` blocks of a page, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

beforeAll(async () => {
  svc = await startReceiver();
  const admin = await svc.token(TENANT, ['evidence:create', 'evidence:read', 'attest:create', 'timeline:write'].map((s) => `stella:${s}#tenant/${TENANT}`));
  const writer = await svc.token(TENANT, [`stella:telemetry:write#tenant/${TENANT}`]);
  const call = (url: string, payload: unknown) => svc.service.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${admin}` }, payload: payload as never });
  const sent = await exportWith(new OTLPTraceExporter({ url: `http://127.0.0.1:${svc.ports.http}/v1/traces`, headers: { authorization: `Bearer ${writer}` } }), makeSpans('checkout'));
  expect(sent.code).toBe(ExportResultCode.SUCCESS);

  // The evaluation the forensics page snapshots, with a complete chain of custody and its attestation.
  const sbom = '{"bomFormat":"CycloneDX","components":[{"purl":"pkg:npm/lodash@4.17.20"}]}';
  const a = await call('/evidence/artifacts', { resource_type: 'evaluation', resource_id: 'eval-42', role: 'sbom', name: 'sbom.cdx.json', media_type: 'application/json', content_base64: Buffer.from(sbom).toString('base64') });
  expect(a.statusCode, a.body).toBe(201);
  const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  const [source, decision, linked, exported] = ['{"purl":"pkg:npm/app@1.0.0"}', '{"verdict":"pass"}', '{"advisories":[]}', '{"export":"report.json"}'];
  const statement = jobProvenance({
    jobId: 'export-42',
    builderId: 'https://stella-ops.org/task-runner',
    runnerImage: { uri: 'oci://runner', digest: { sha256: 'c'.repeat(64) } },
    outputs: [{ name: 'report.json', digest: { sha256: sha(exported!).slice(7) } }],
    startedOn: new Date(Date.now() - 2000).toISOString(),
    finishedOn: new Date(Date.now() - 1000).toISOString(),
  });
  const att = await call('/attestations', { subject_id: 'export-42', statement, resource_type: 'evaluation', resource_id: 'eval-42' });
  expect(att.statusCode, att.body).toBe(201);
  const attestationId = att.json<{ attestation: { id: string } }>().attestation.id;
  const step = (kind: string, custody: Record<string, unknown>) => ({ kind, resource_type: 'evaluation', resource_id: 'eval-42', trace_id: 'b'.repeat(32), details: { custody: { subject: 'evaluation/eval-42', ...custody } } });
  const posted = await call('/timeline/events', {
    events: [
      step('source.fetched', { step: 'source.fetch', output_digest: sha(source!) }),
      step('sbom.computed', { step: 'sbom.compute', input_digest: sha(source!), output_digest: sha(sbom) }),
      step('policy.evaluated', { step: 'policy.eval', input_digest: sha(sbom), output_digest: sha(decision!) }),
      step('advisory.linked', { step: 'advisory.link', input_digest: sha(decision!), output_digest: sha(linked!) }),
      step('export.completed', { step: 'export', input_digest: sha(linked!), output_digest: sha(exported!), attestation_id: attestationId }),
    ],
  });
  expect(posted.statusCode, posted.body).toBe(202);
  // Timeline events are indexed from the bus: wait until the chain is there.
  for (let tries = 0; ; tries++) {
    const chain = await svc.service.app.inject({ method: 'GET', url: '/custody/evaluation/eval-42', headers: { authorization: `Bearer ${admin}` } });
    if (chain.statusCode === 200 && chain.json<{ complete: boolean }>().complete) break;
    expect(tries, 'the custody chain to be indexed').toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  // The bridge: body = cwd, stderr file, argc, args…, then the shell's environment, NUL-separated;
  // answer = stdout, HTTP status 200 + exit code.
  bridge = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const fields = Buffer.concat(parts).toString('utf8').split('\0');
      const [cwd, errFile, argc] = fields;
      const argv = fields.slice(3, 3 + Number(argc));
      const env = Object.fromEntries(
        fields
          .slice(3 + Number(argc))
          .filter((e) => e.includes('='))
          .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      );
      let out = '';
      let err = '';
      const { run } = createProgram({ stdout: (s) => (out += s), stderr: (s) => (err += s), env, cwd: cwd! });
      void run(argv).then(async (code) => {
        runs.push({ page, argv, code, err });
        await writeFile(errFile!, err);
        res.writeHead(200 + code, { 'content-type': 'text/plain' });
        res.end(out);
      });
    });
  });
  await new Promise<void>((resolve) => bridge.listen(0, '127.0.0.1', resolve));
  bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}/`;
}, 90_000);

afterAll(async () => {
  bridge?.closeAllConnections();
  await new Promise((resolve) => bridge?.close(resolve));
  await svc?.stop();
});

const PRELUDE = `set -euo pipefail
stella() {
  local out err status
  out=$(mktemp) err=$(mktemp)
  status=$({ printf '%s\\0' "$PWD" "$err" "$#" "$@"; env -0; } | curl -sS -o "$out" -w '%{http_code}' --data-binary @- "$STELLA_DOC_BRIDGE")
  cat "$out"; cat "$err" >&2; rm -f "$out" "$err"
  return $((status - 200))
}
`;

async function runPage(name: string): Promise<{ code: number; output: string }> {
  page = name;
  const blocks = shellBlocks(await readFile(join(DOCS, name), 'utf8'));
  expect(blocks.length, name).toBeGreaterThan(0);
  const script = blocks
    .join('\n')
    .replaceAll('http://127.0.0.1:8080', `http://127.0.0.1:${(svc.service.app.server.address() as AddressInfo).port}`)
    .replaceAll('http://127.0.0.1:4318', `http://127.0.0.1:${svc.ports.http}`)
    .replaceAll('./.stella', svc.dataDir);
  const cwd = await mkdtemp(join(tmpdir(), 'stella-docs-'));
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', PRELUDE + script], { cwd, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8', STELLA_DOC_BRIDGE: bridgeUrl } });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, output }));
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

describe.skipIf(missing.length > 0)(`the sh blocks of ${PAGES.join(', ')}`, () => {
  for (const name of PAGES) {
    it(`${name} runs as written`, async () => {
      const { code, output } = await runPage(name);
      const mine = runs.filter((r) => r.page === name);
      const failed = mine.filter((r) => r.code !== 0).map((r) => `stella ${r.argv.join(' ')} → exit ${r.code}: ${r.err}`);
      expect(failed, output).toEqual([]);
      expect(code, output).toBe(0);
      expect(mine.length).toBeGreaterThan(3);
    }, 120_000);
  }
});
