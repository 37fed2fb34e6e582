/**
 * TL-5 and ATT-2/3 through the API: one evaluation's chain source fetch → SBOM compute →
 * policy eval → advisory link → export, with an evidence bundle and a signed attestation,
 * verifies as a whole; a broken link, a tampered bundle or a foreign signature is named.
 */
import { createHash } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, createKeySigner, jobProvenance, signStatement } from '@stellaops/forensics';
import { eventually } from '../helpers/external.js';
import { ALL_SCOPES, artifact, startForensicsService, type ForensicsTestService } from '../evidence/forensics-service.js';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('chain of custody for one evaluation', () => {
  let ts: ForensicsTestService;
  let token: string;
  let bundleId: string;
  let attestationId: string;
  const source = '{"purl":"pkg:npm/app@1.0.0"}';
  const sbom = '{"bomFormat":"CycloneDX","components":[{"purl":"pkg:npm/lodash@4.17.20"}]}';
  const decision = '{"verdict":"fail","rule":"no-critical"}';
  const linked = '{"advisories":["GHSA-35jh-r3h4-6jhm"]}';
  const exported = '{"export":"report.json"}';

  const call = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    ts.service.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as never } : {}) });
  const step = (kind: string, custody: Record<string, unknown>) => ({
    kind,
    resource_type: 'evaluation',
    resource_id: 'eval-42',
    trace_id: 'b'.repeat(32),
    details: { custody: { subject: 'evaluation/eval-42', ...custody } },
  });
  const chain = async () => (await call('GET', '/custody/evaluation/eval-42')).json<{ verified: boolean; complete: boolean; problems: string[]; steps: { step: string; verified: boolean }[] }>();

  beforeAll(async () => {
    ts = await startForensicsService({ now: Date.now() });
    token = await ts.token('acme', ALL_SCOPES);
    expect((await call('POST', '/evidence/artifacts', artifact('evaluation', 'eval-42', 'sbom', 'sbom.cdx.json', sbom))).statusCode).toBe(201);
    bundleId = (await call('POST', '/evidence/snapshot', { kind: 'evaluation', resource_id: 'eval-42', case_id: 'case-42' })).json<{ bundle_id: string }>().bundle_id;
    const statement = jobProvenance({
      jobId: 'export-42',
      builderId: 'https://stella-ops.org/task-runner',
      runnerImage: { uri: 'oci://runner', digest: { sha256: 'c'.repeat(64) } },
      outputs: [{ name: 'report.json', digest: { sha256: sha(exported).slice(7) } }],
      startedOn: new Date(ts.clock.now - 1000).toISOString(),
      finishedOn: new Date(ts.clock.now - 500).toISOString(),
    });
    const att = await call('POST', '/attestations', { subject_id: 'export-42', statement, resource_type: 'evaluation', resource_id: 'eval-42', bundle_id: bundleId });
    expect(att.statusCode).toBe(201);
    attestationId = att.json<{ attestation: { id: string } }>().attestation.id;
    const posted = await call('POST', '/timeline/events', {
      events: [
        step('source.fetched', { step: 'source.fetch', output_digest: sha(source) }),
        step('sbom.computed', { step: 'sbom.compute', input_digest: sha(source), output_digest: sha(sbom) }),
        step('policy.evaluated', { step: 'policy.eval', input_digest: sha(sbom), output_digest: sha(decision), bundle_id: bundleId }),
        step('advisory.linked', { step: 'advisory.link', input_digest: sha(decision), output_digest: sha(linked) }),
        step('export.completed', { step: 'export', input_digest: sha(linked), output_digest: sha(exported), attestation_id: attestationId }),
      ],
    });
    expect(posted.statusCode).toBe(202);
    await eventually(async () => ((await chain()).complete ? true : undefined), 15_000, 'the five custody steps to be indexed');
  });
  afterAll(async () => ts?.stop());

  it('verifies the whole chain with its bundle and attestation', async () => {
    const c = await chain();
    expect(c.problems).toEqual([]);
    expect(c.verified).toBe(true);
    expect(c.steps.map((s) => s.step)).toEqual(['source.fetch', 'sbom.compute', 'policy.eval', 'advisory.link', 'export']);
  });

  it('verifies attestations on read and against artifacts', async () => {
    const list = (await call('GET', '/attestations?subject_id=export-42')).json<{ attestations: { id: string; status: string; signer_key_id: string; signed_at: string }[] }>();
    expect(list.attestations).toHaveLength(1);
    expect(list.attestations[0]).toMatchObject({ id: attestationId, status: 'verified' });
    const keyring = (await call('GET', '/evidence/keyring')).json<{ current_key_id: string }>();
    expect(list.attestations[0]!.signer_key_id).toBe(keyring.current_key_id);
    const matching = await call('POST', '/attestations/verify', { attestation_id: attestationId });
    expect(matching.json()).toMatchObject({ verification: { ok: true } });
  });

  it('refuses an envelope signed by a key outside the tenant key ring', async () => {
    const stranger = createKeySigner(generateSigningKeyPair().privateKeyPem);
    const envelope = await signStatement(
      jobProvenance({ jobId: 'x', builderId: 'b', runnerImage: { uri: 'oci://r', digest: { sha256: 'd'.repeat(64) } }, outputs: [{ name: 'o', digest: { sha256: 'e'.repeat(64) } }] }),
      stranger,
    );
    const res = await call('POST', '/attestations', { subject_id: 'job-x', envelope });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error_code: 'attestation.invalid' });
    const v = await call('POST', '/attestations/verify', { envelope });
    expect(v.json()).toMatchObject({ verification: { ok: false } });
  });

  it('names a broken link', async () => {
    const posted = await call('POST', '/timeline/events', { events: [step('advisory.linked', { step: 'advisory.link', input_digest: sha('something else'), output_digest: sha(linked) })] });
    expect(posted.statusCode).toBe(202);
    const c = await eventually(async () => {
      const now = await chain();
      return now.verified ? undefined : now;
    }, 15_000, 'the retried step to be indexed');
    expect(c.steps.find((s) => s.step === 'advisory.link')!.verified).toBe(false);
    expect(c.problems.join('\n')).toMatch(/advisory\.link link: input sha256:[0-9a-f]{64} differs from the output of policy\.eval/);
  });

  it('names a tampered bundle behind a step', async () => {
    const file = join(ts.dataDir, 'evidence', 'tenants', 'acme', 'evidence', 'case-42', bundleId, 'files', 'sbom', 'sbom.cdx.json');
    await chmod(file, 0o644);
    await writeFile(file, sbom.replace('4.17.20', '4.17.21'));
    const c = await chain();
    expect(c.problems.join('\n')).toContain('policy.eval bundle: files/sbom/sbom.cdx.json has sha256');
    const read = (await call('GET', `/evidence/${bundleId}`)).json<{ verification: { ok: boolean; failures: { code: string; path: string }[] } }>();
    expect(read.verification.ok).toBe(false);
    expect(read.verification.failures).toContainEqual(expect.objectContaining({ code: 'digest_mismatch', path: 'files/sbom/sbom.cdx.json' }));
  });
});
