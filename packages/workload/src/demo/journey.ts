/** The journey the demo drives, per tenant, through the workload's public HTTP APIs. */
import { newSpanId, newTraceId } from '@stellaops/telemetry-core';
import type { EvaluationResult, JobRecord } from '../services/jobs.js';
import { eventually } from './processes.js';
import type { Stack } from './stack.js';

export interface TenantPlan {
  tenant: string;
  project: string;
  /** SBOM source and VEX document of the tenant's application. */
  source_id: string;
  vex_source: string;
  /** Also ingest the partner feed, whose malformed advisory makes the job fail. */
  injectFailure: boolean;
}

export const DEMO_TENANTS: readonly TenantPlan[] = [
  { tenant: 'acme', project: 'payments', source_id: 'payments-api', vex_source: 'payments-api', injectFailure: true },
  { tenant: 'globex', project: 'ledger', source_id: 'ledger-worker', vex_source: 'ledger-worker', injectFailure: false },
];

export interface SubmittedJob {
  job_id: string;
  trace_id: string;
}

/**
 * Submits a job as a user of the tenant would through the Web API. The caller starts the trace
 * (sampled), as the CLI and Console do, so the whole journey is traced whatever the head ratio.
 */
export async function submitJob(stack: Stack, plan: TenantPlan, type: string, params: Record<string, unknown>, options: { sampled?: boolean } = {}): Promise<SubmittedJob> {
  const traceId = newTraceId();
  const res = await fetch(`${stack.peers.orchestrator}/jobs`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-stella-tenant': plan.tenant,
      'x-stella-project': plan.project,
      'x-stella-actor': `user:${plan.tenant}-analyst`,
      traceparent: `00-${traceId}-${newSpanId()}-${options.sampled === false ? '00' : '01'}`,
    },
    body: JSON.stringify({ type, params }),
  });
  const body = (await res.json()) as { job_id?: string; error_code?: string; message?: string };
  if (res.status !== 202 || !body.job_id) throw new Error(`orchestrator refused the ${type} job: ${res.status} ${body.error_code ?? ''} ${body.message ?? ''}`);
  return { job_id: body.job_id, trace_id: traceId };
}

export async function waitForJob(stack: Stack, plan: TenantPlan, jobId: string, timeoutMs = 60_000): Promise<JobRecord> {
  return eventually(
    `job ${jobId} of ${plan.tenant} to end`,
    async () => {
      const res = await fetch(`${stack.peers.orchestrator}/jobs/${jobId}`, { headers: { 'x-stella-tenant': plan.tenant } });
      const rec = (await res.json()) as JobRecord;
      return rec.state === 'finished' || rec.state === 'failed' ? rec : undefined;
    },
    timeoutMs,
    100,
  );
}

export interface TenantRun {
  plan: TenantPlan;
  ingest: { job: SubmittedJob; record: JobRecord };
  evaluation: { job: SubmittedJob; record: JobRecord; result: EvaluationResult | undefined };
  failure?: { job: SubmittedJob; record: JobRecord };
}

/** Advisory feed ingest, then the evaluation pipeline, then (for one tenant) the feed with the malformed advisory. */
export async function runTenantJourney(stack: Stack, plan: TenantPlan): Promise<TenantRun> {
  const ingestJob = await submitJob(stack, plan, 'advisory.ingest', { feed: 'stella-osv' });
  const ingest = { job: ingestJob, record: await waitForJob(stack, plan, ingestJob.job_id) };
  const evalJob = await submitJob(stack, plan, 'evaluation.run', { source_id: plan.source_id, vex_source: plan.vex_source });
  const evalRecord = await waitForJob(stack, plan, evalJob.job_id);
  const run: TenantRun = {
    plan,
    ingest,
    evaluation: { job: evalJob, record: evalRecord, result: evalRecord.state === 'finished' ? (evalRecord.result as unknown as EvaluationResult) : undefined },
  };
  if (plan.injectFailure) {
    const failJob = await submitJob(stack, plan, 'advisory.ingest', { feed: 'partner-osv' });
    run.failure = { job: failJob, record: await waitForJob(stack, plan, failJob.job_id) };
  }
  return run;
}
