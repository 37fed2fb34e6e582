import { createHash, createPublicKey, verify } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IN_TOTO_PAYLOAD_TYPE,
  JOB_BUILD_TYPE,
  Keyring,
  createKeySigner,
  exportProvenance,
  generateSigningKeyPair,
  jobProvenance,
  pae,
  signStatement,
  verifyAttestation,
} from '../src/index.js';
import { scratch } from './helpers/fixture.js';

const pair = generateSigningKeyPair();
const signer = createKeySigner(pair.privateKeyPem);
const artifact = Buffer.from('{"findings":[]}\n');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let work: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await scratch();
});
afterAll(async () => work.cleanup());

describe('in-toto / SLSA provenance', () => {
  const statement = jobProvenance({
    jobId: 'job-123',
    builderId: 'https://stella-ops.org/task-runner/runner-1',
    runnerImage: { uri: 'oci://registry.local/stella/runner', digest: { sha256: 'a'.repeat(64) } },
    outputs: [{ name: 'findings.json', digest: { sha256: sha(artifact) } }],
    sources: [{ uri: 'git+https://git.local/app@refs/heads/main', digest: { gitCommit: 'b'.repeat(40) } }],
    policies: [{ name: 'policy-set', digest: { sha256: 'c'.repeat(64) } }],
    advisories: [{ name: 'osv/GHSA-xxxx', digest: { sha256: 'd'.repeat(64) }, annotations: { modified: '2025-01-01T00:00:00Z' } }],
    startedOn: '2025-03-01T11:00:00.000Z',
    finishedOn: '2025-03-01T11:05:00.000Z',
  });

  it('builds a Statement v1 with a SLSA Provenance v1 predicate naming builder, runner image, sources, policies and advisories', () => {
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.predicate.buildDefinition.buildType).toBe(JOB_BUILD_TYPE);
    expect(statement.predicate.runDetails.builder.id).toBe('https://stella-ops.org/task-runner/runner-1');
    const roles = statement.predicate.buildDefinition.resolvedDependencies!.map((d) => d.annotations?.['stellaops.role']);
    expect(roles).toEqual(['runner-image', 'source', 'policy', 'advisory']);
    expect(() => exportProvenance({ exportId: 'x', builderId: 'b', files: [] })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('signs with DSSE (in-toto payload type), verifiable over PAE by node:crypto alone', async () => {
    const env = await signStatement(statement, signer);
    expect(env.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    const ok = verify('sha256', pae(env.payloadType, Buffer.from(env.payload, 'base64')), createPublicKey(pair.publicKeyPem), Buffer.from(env.signatures[0]!.sig, 'base64'));
    expect(ok).toBe(true);
  });

  it('verifies signature and subject digest against the artifact, reporting signer and time', async () => {
    const env = await signStatement(statement, signer);
    const file = join(work.dir, 'findings.json');
    await writeFile(file, artifact);
    const v = await verifyAttestation(env, { publicKey: pair.publicKeyPem, artifacts: [file] });
    expect(v.failures).toEqual([]);
    expect(v.signerKeyIds).toEqual([pair.keyId]);
    expect(v.signedAt).toBe('2025-03-01T11:05:00.000Z');
    expect(v.matchedSubjects.map((s) => s.name)).toEqual(['findings.json']);

    const other = join(work.dir, 'other.json');
    await writeFile(other, 'tampered');
    const bad = await verifyAttestation(env, { publicKey: pair.publicKeyPem, artifacts: [other] });
    expect(bad.failures.map((f) => f.code)).toEqual(['subject_mismatch']);

    const wrongKey = await verifyAttestation(env, { publicKey: generateSigningKeyPair().publicKeyPem, artifacts: [file] });
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.failures.map((f) => f.code)).toContain('key_unknown');

    const edited = { ...env, payload: Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('job-123', 'job-124')).toString('base64') };
    expect((await verifyAttestation(edited, { publicKey: pair.publicKeyPem })).failures.map((f) => f.code)).toContain('signature_invalid');
  });

  it('checks the key ring at the statement time: a key retired before the job finished is refused', async () => {
    const env = await signStatement(statement, signer);
    const ring = await Keyring.create({ signer, at: '2025-01-01T00:00:00.000Z' });
    expect((await verifyAttestation(env, { keyring: ring, artifacts: [artifact] })).ok).toBe(true);
    await ring.retire(pair.keyId, { signer, at: '2025-02-01T00:00:00.000Z' });
    const v = await verifyAttestation(env, { keyring: ring, artifacts: [artifact] });
    expect(v.failures.map((f) => f.code)).toContain('key_outside_validity');
  });

  it('covers exports too', async () => {
    const exp = exportProvenance({ exportId: 'exp-9', builderId: 'https://stella-ops.org/export-center', files: [{ name: 'report.json', digest: { sha256: sha(artifact) } }], recipients: ['b@x', 'a@x'] });
    const env = await signStatement(exp, signer);
    const v = await verifyAttestation(env, { publicKey: pair.publicKeyPem, artifacts: [{ sha256: sha(artifact) }] });
    expect(v.ok).toBe(true);
    expect(exp.predicate.buildDefinition.externalParameters).toEqual({ exportId: 'exp-9', recipients: ['a@x', 'b@x'] });
  });
});
