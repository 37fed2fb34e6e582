import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEvaluationBundle,
  buildExportManifest,
  buildJobCapsule,
  createKeySigner,
  generateSigningKeyPair,
  hashEnvironment,
  verifyBundle,
} from '../src/index.js';
import { scratch } from './helpers/fixture.js';

const pair = generateSigningKeyPair();
const common = { tenant: 't1', caseId: 'c1', resourceId: 'r1', createdAt: '2025-03-01T00:00:00.000Z', signer: createKeySigner(pair.privateKeyPem) };
let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await scratch();
});
afterAll(async () => work.cleanup());

describe('snapshot builders (EVI-2)', () => {
  it('evaluation bundle lays out SBOM, advisories, VEX, policies, engine, config and decision trace', async () => {
    const out = join(work.dir, 'eval');
    const b = await buildEvaluationBundle({
      ...common,
      output: { directory: out },
      evaluation: {
        sbom: { name: 'app.cdx.json', source: Buffer.from('{"bomFormat":"CycloneDX"}') },
        advisories: [{ name: 'GHSA-1.json', source: Buffer.from('{"id":"GHSA-1"}') }],
        vex: [{ name: 'app.openvex.json', source: Buffer.from('{"@context":"https://openvex.dev/ns"}') }],
        policies: [{ name: 'default.rego', source: Buffer.from('package stella') }],
        engineVersion: 'policy-engine 1.4.2',
        config: { severityThreshold: 'high' },
        decisionTrace: { steps: [{ rule: 'r1', result: 'pass' }] },
      },
    });
    expect(b.manifest.kind).toBe('evaluation');
    expect(b.manifest.files.map((f) => f.path)).toEqual([
      'advisories/GHSA-1.json',
      'config.json',
      'decision-trace.json',
      'engine.json',
      'policies/default.rego',
      'sbom/app.cdx.json',
      'vex/app.openvex.json',
    ]);
    expect((await verifyBundle(out, { publicKey: pair.publicKeyPem })).ok).toBe(true);
  });

  it('job capsule stores environment variables only as hashes', async () => {
    const out = join(work.dir, 'job.tar');
    const secret = 'hunter2-very-secret-token-value';
    const b = await buildJobCapsule({
      ...common,
      output: { tarFile: out },
      job: {
        jobId: 'job-1',
        runnerImageDigest: `sha256:${'e'.repeat(64)}`,
        command: ['stella-runner', 'evaluate'],
        inputs: [{ name: 'sbom', digest: { sha256: 'f'.repeat(64) } }],
        outputs: [{ name: 'findings.json', source: Buffer.from('[]') }],
        environment: { API_TOKEN: secret, MODE: 'ci' },
        transcript: Buffer.from('evaluating...\ndone\n'),
        exitCode: 0,
      },
    });
    const tar = await readFile(out);
    expect(tar.includes(secret)).toBe(false);
    const env = hashEnvironment({ API_TOKEN: secret, MODE: 'ci' });
    expect(tar.includes(env.variables.API_TOKEN!)).toBe(true);
    expect(b.manifest.metadata).toMatchObject({ environmentDigest: env.digest });
    expect((await verifyBundle(out, { publicKey: pair.publicKeyPem })).ok).toBe(true);
  });

  it('export manifest records files and recipients', async () => {
    const out = join(work.dir, 'export');
    const b = await buildExportManifest({
      ...common,
      output: { directory: out },
      export: { exportId: 'exp-1', files: [{ name: 'report.csv', source: Buffer.from('a,b\n') }], recipients: ['z@example.org', 'a@example.org'] },
    });
    expect(b.manifest.metadata).toMatchObject({ exportId: 'exp-1', recipients: ['a@example.org', 'z@example.org'] });
    expect(b.manifest.files.map((f) => f.path)).toEqual(['export/report.csv', 'recipients.json']);
    expect((await verifyBundle(out, { publicKey: pair.publicKeyPem })).ok).toBe(true);
  });
});
