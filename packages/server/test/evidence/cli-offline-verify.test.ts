/**
 * EVI-6 end to end with real processes: the `stella` CLI creates a snapshot on a listening
 * service, downloads the archive, exports the key ring, and verifies the bundle offline; a
 * tampered copy fails with exit 1 naming the file. Every call prints its trace id.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_TOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from '@stellaops/forensics';
import { createProgram } from '../../../cli/src/program.js';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from './forensics-service.js';

const STELLA = fileURLToPath(new URL('../../../cli/bin/stella.js', import.meta.url));

function stella(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [STELLA, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
    });
  });
}

describe('stella forensic against a running service, verified offline', () => {
  let ts: ForensicsTestService;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    // Real time: the CLI's tokens and the service clock must agree.
    ts = await startForensicsService({ now: Date.now() });
    const address = await ts.service.listen();
    work = await mkdtemp(join(tmpdir(), 'stella-cli-'));
    env = { STELLA_SERVER: address, STELLA_TOKEN: await ts.token('acme', ALL_SCOPES), STELLA_TENANT: 'acme' };
    const inject = (payload: unknown) =>
      ts.service.app.inject({ method: 'POST', url: '/evidence/artifacts', headers: { authorization: `Bearer ${env.STELLA_TOKEN}` }, payload: payload as never });
    expect((await inject(artifact('evaluation', 'eval-7', 'sbom', 'sbom.cdx.json', '{"bomFormat":"CycloneDX","components":[]}'))).statusCode).toBe(201);
    expect((await inject(artifact('evaluation', 'eval-7', 'policy', 'policy.rego', 'package stella\ndefault allow = false\n'))).statusCode).toBe(201);
  });

  afterAll(async () => {
    await ts?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('creates, downloads, exports the key ring and verifies offline; tamper fails', async () => {
    const out = join(work, 'bundle.tar');
    const created = await stella(['forensic', 'snapshot', 'create', '--case', 'case-7', '--scope', 'evaluation', '--id', 'eval-7', '--out', out, '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const doc = JSON.parse(created.stdout) as { ok: boolean; trace_id: string; bundle: { bundle_id: string } };
    expect(doc.trace_id).toMatch(/^[0-9a-f]{32}$/);
    // The traceparent the CLI sent is the trace the service recorded the snapshot under.
    const recorded = await ts.service.store.tenantTransaction('acme', (tx) =>
      tx.query<{ trace_id: string }>("SELECT trace_id FROM timeline_events WHERE tenant_id = 'acme' AND kind = 'evidence.snapshot.created' AND resource_id = $1", [doc.bundle.bundle_id]),
    );
    expect(recorded.rows[0]?.trace_id).toBe(doc.trace_id);

    const ring = join(work, 'keyring.json');
    const exported = await stella(['forensic', 'keyring', 'export', '--out', ring], env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/trace_id [0-9a-f]{32}/);

    // Offline: no server variables at all.
    const ok = await stella(['forensic', 'verify', out, '--keyring', ring], {});
    expect(ok.stdout).toContain('VALID');
    expect(ok.code).toBe(0);

    const shown = await stella(['forensic', 'snapshot', 'get', doc.bundle.bundle_id], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`VALID bundle ${doc.bundle.bundle_id}`);

    const bytes = await readFile(out);
    const at = bytes.indexOf(Buffer.from('default allow'));
    bytes[at] = 'D'.charCodeAt(0);
    const bad = join(work, 'tampered.tar');
    await writeFile(bad, bytes);
    const failed = await stella(['forensic', 'verify', bad, '--keyring', ring, '--json'], {});
    expect(failed.code).toBe(1);
    const verdict = JSON.parse(failed.stdout) as { ok: boolean; failures: { code: string; path?: string }[] };
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toContainEqual(expect.objectContaining({ code: 'digest_mismatch', path: 'files/policies/policy.rego' }));
  });

  it('reports server errors with the trace id and a usage exit code', async () => {
    const missing = await stella(['forensic', 'snapshot', 'get', 'no-such-bundle'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/404.*trace_id [0-9a-f]{32}/);
    const noToken = await stella(['forensic', 'custody', 'evaluation', 'eval-7'], { STELLA_SERVER: env.STELLA_SERVER!, STELLA_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('no token');
  });

  it('places and releases holds, shows attestations, and refuses what it must', async () => {
    const cli = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const { run } = createProgram({ stdout: (x) => void (stdout += x), stderr: (x) => void (stderr += x), env, cwd: work });
      return { code: await run(argv), stdout, stderr };
    };
    const placed = await cli(['forensic', 'hold', 'place', 'case-7', '--reason', 'audit request', '--json']);
    expect(placed.code).toBe(0);
    expect(JSON.parse(placed.stdout)).toMatchObject({ ok: true, case_id: 'case-7', held: true, bundles: 1, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect((await cli(['forensic', 'hold', 'release', 'case-7', '--reason', 'done'])).stdout).toMatch(/hold released \(1 bundles\)/);

    const att = await ts.service.app.inject({
      method: 'POST',
      url: '/attestations',
      headers: { authorization: `Bearer ${env.STELLA_TOKEN}` },
      payload: { subject_id: 'job-7', statement: { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: 'out.json', digest: { sha256: 'f'.repeat(64) } }], predicateType: SLSA_PROVENANCE_V1, predicate: {} } },
    });
    const id = att.json<{ attestation: { id: string } }>().attestation.id;
    const shown = await cli(['forensic', 'attest', 'show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^VERIFIED attestation ${id}`));

    // A tenant-bound token may not rotate the platform key; the refusal names the trace.
    const rotate = await cli(['forensic', 'key', 'rotate']);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toMatch(/403.*platform-wide scope.*trace_id [0-9a-f]{32}/);

    const ring = join(work, 'again.json');
    expect((await cli(['forensic', 'keyring', 'export', '--out', ring])).code).toBe(0);
    const twice = await cli(['forensic', 'keyring', 'export', '--out', ring, '--json']);
    expect(twice.code).toBe(2);
    expect(JSON.parse(twice.stdout)).toMatchObject({ ok: false, error: { code: 'exists' } });
  });
});
