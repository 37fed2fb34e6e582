/**
 * The evidence half of the demo, through the `stella` CLI as an auditor would run it:
 * snapshots of an evaluation and of its job, verified offline against the exported key ring;
 * the job's and the export's attestations, verified on read; the SBOM's chain of custody.
 */
import { join } from 'node:path';
import type { JobRecord } from '../services/jobs.js';
import type { TenantRun } from './journey.js';
import { stellaCli, type CliRun } from './stella-cli.js';
import type { Stack } from './stack.js';

export interface EvidenceOutcome {
  tenant: string;
  keyring: CliRun;
  snapshots: { kind: string; resource: string; create: CliRun; verify: CliRun | undefined; bundle_id: string | undefined; archive: string }[];
}

function failure(run: CliRun): string {
  const e = run.json?.['error'] as { code?: string; message?: string } | undefined;
  return e ? `${e.code}: ${e.message}` : run.stderr.trim().split('\n').at(-1) ?? `exit ${run.exitCode}`;
}

export const cliOk = (run: CliRun | undefined): boolean => !!run && run.exitCode === 0 && run.json?.['ok'] === true;
export const cliProblem = (run: CliRun): string => `stella ${run.args.slice(0, 3).join(' ')}: ${failure(run)}`;

/** Evaluation bundle and job capsule of one tenant's evaluation, each downloaded and verified offline. */
export async function snapshotAndVerify(stack: Stack, run: TenantRun, token: string, outDir: string): Promise<EvidenceOutcome> {
  const env = { server: stack.stellaUrl, token, tenant: run.plan.tenant };
  const keyringFile = join(outDir, `${run.plan.tenant}-keyring.json`);
  const keyring = await stellaCli(['forensic', 'keyring', 'export', '--out', keyringFile], env);
  const caseId = `demo-${run.plan.tenant}`;
  const targets = [
    { kind: 'evaluation', resource: run.evaluation.result!.evaluation_id },
    { kind: 'job-capsule', resource: run.evaluation.job.job_id },
  ];
  const snapshots: EvidenceOutcome['snapshots'] = [];
  for (const t of targets) {
    const archive = join(outDir, `${run.plan.tenant}-${t.kind}.tar`);
    const create = await stellaCli(['forensic', 'snapshot', 'create', '--case', caseId, '--scope', t.kind, '--id', t.resource, '--out', archive], env);
    const bundle = create.json?.['bundle'] as { bundle_id?: string } | undefined;
    // Offline: only the downloaded archive and the key ring, no server.
    const verify = cliOk(create) ? await stellaCli(['forensic', 'verify', archive, '--keyring', keyringFile], { server: 'http://127.0.0.1:9', token: '', tenant: run.plan.tenant }) : undefined;
    snapshots.push({ ...t, create, verify, bundle_id: bundle?.bundle_id, archive });
  }
  return { tenant: run.plan.tenant, keyring, snapshots };
}

/** The job's and the export's attestations, each read back and verified by the service. */
export async function showAttestations(stack: Stack, run: TenantRun, token: string, job: JobRecord): Promise<{ subject: string; id: string | null; show: CliRun | undefined }[]> {
  const env = { server: stack.stellaUrl, token, tenant: run.plan.tenant };
  const ids = [
    { subject: `job ${job.job_id}`, id: job.attestation_id },
    { subject: `export ${run.evaluation.result?.export_id ?? '?'}`, id: run.evaluation.result?.export_attestation_id ?? null },
  ];
  return Promise.all(ids.map(async (a) => ({ ...a, show: a.id ? await stellaCli(['forensic', 'attest', 'show', a.id], env) : undefined })));
}

export async function custody(stack: Stack, run: TenantRun, token: string): Promise<CliRun> {
  return stellaCli(['forensic', 'custody', 'sbom', run.evaluation.result!.sbom_id], { server: stack.stellaUrl, token, tenant: run.plan.tenant });
}
