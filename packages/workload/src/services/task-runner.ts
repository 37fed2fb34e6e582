/**
 * task-runner: executes jobs. It restores the payload's trace context (`runner.execute` is a
 * child of `orchestrator.schedule`), runs the steps as HTTP calls to the services that own
 * them, and reports started/finished/failed back to the orchestrator.
 */
import type { FastifyInstance } from 'fastify';
import { restoreJobContext, withContext, type Logger } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import type { Finding } from './conseiller.js';
import type { ReconciledFinding } from './excitator.js';
import type { AdvisoryIngestParams, EvaluationParams, EvaluationResult, JobPayload } from './jobs.js';
import type { Decision } from './policy-engine.js';
import { rootErrorCode, type WorkloadRuntime } from './service-host.js';

export function registerTaskRunner(app: FastifyInstance, rt: WorkloadRuntime): void {
  let running = 0;

  app.post<{ Body: JobPayload }>('/executions', async (request, reply) => {
    const payload = request.body;
    if (!payload || typeof payload.job_id !== 'string' || typeof payload.type !== 'string' || !payload.telemetry) {
      throw new WorkloadError('job.invalid', 'body must be a job payload with job_id, type, params and telemetry', { field: 'body' });
    }
    // Detached from the HTTP request: the job lives on in the trace restored from its payload.
    setImmediate(() => {
      running++;
      void restoreJobContext(payload.telemetry, () => withContext({ job_id: payload.job_id, run_id: `${payload.job_id}-r1` }, () => execute(rt, payload)), { mode: 'continue', spanName: 'runner.execute' }).finally(() => running--);
    });
    return reply.code(202).send({ accepted: payload.job_id, running: running + 1 });
  });
}

async function execute(rt: WorkloadRuntime, payload: JobPayload): Promise<void> {
  const log: Logger = rt.logger;
  const report = (state: 'started' | 'finished' | 'failed', extra: Record<string, unknown> = {}): Promise<unknown> =>
    rt.call('orchestrator', `/jobs/${payload.job_id}/state`, { body: { state, ...extra } }).catch((err: unknown) => log.error({ err }, 'job state not reported'));
  await report('started');
  log.info({ resource: 'job', action: 'execute', details: { type: payload.type } }, 'job started');
  try {
    const result = payload.type === 'advisory.ingest' ? await ingest(rt, payload.params as AdvisoryIngestParams) : await evaluate(rt, payload.params as EvaluationParams);
    await report('finished', { result });
    log.info({ resource: 'job', action: 'finish' }, 'job finished');
  } catch (err) {
    const code = rootErrorCode(err);
    const message = (err as Error).message;
    log.error({ err, error_code: code }, 'job failed');
    await report('failed', { error: { code, message } });
  }
}

function ingest(rt: WorkloadRuntime, params: AdvisoryIngestParams): Promise<Record<string, unknown>> {
  return rt.call('conseiller', '/advisories/ingest', { body: { feed: params.feed } });
}

/** Source fetch → SBOM ingest → advisory link → VEX reconcile → policy evaluate → export. */
async function evaluate(rt: WorkloadRuntime, params: EvaluationParams): Promise<EvaluationResult> {
  const source = await rt.call<{ source_id: string; source_digest: string; document: string }>('sbom-service', `/sources/${encodeURIComponent(params.source_id)}`);
  const sbom = await rt.call<{ sbom_id: string; sbom_digest: string; components: number }>('sbom-service', '/sboms', {
    body: { source_id: source.source_id, source_digest: source.source_digest, document: source.document },
  });
  return withContext({ sbom_id: sbom.sbom_id, source_id: source.source_id }, async () => {
    const linked = await rt.call<{ findings: Finding[]; findings_digest: string }>('conseiller', '/advisories/link', { body: { sbom_id: sbom.sbom_id } });
    const vex = await rt.call<{ findings: ReconciledFinding[]; vex_digest: string }>('excitator', '/vex/reconcile', {
      body: { sbom_id: sbom.sbom_id, vex_source: params.vex_source, findings: linked.findings },
    });
    const evaluation = await rt.call<{ evaluation_id: string; policy_version: string; policy_digest: string; verdict: string; counts: { allow: number; warn: number; deny: number }; decisions_digest: string; decisions: Decision[] }>(
      'policy-engine',
      '/policy/evaluate',
      { body: { sbom_id: sbom.sbom_id, findings: vex.findings } },
    );
    const exported = await rt.call<{ export_id: string; export_digest: string }>('export-center', '/exports', {
      body: {
        sbom_id: sbom.sbom_id,
        sbom_digest: sbom.sbom_digest,
        evaluation,
        findings: vex.findings,
        inputs: { source: source.source_digest, sbom: sbom.sbom_digest, findings: linked.findings_digest, vex: vex.vex_digest, policy: evaluation.policy_digest },
      },
    });
    const statuses: Record<string, number> = {};
    for (const f of vex.findings) statuses[f.vex_status] = (statuses[f.vex_status] ?? 0) + 1;
    return {
      source_id: source.source_id,
      source_digest: source.source_digest,
      sbom_id: sbom.sbom_id,
      sbom_digest: sbom.sbom_digest,
      components: sbom.components,
      findings: linked.findings.length,
      findings_digest: linked.findings_digest,
      vex_digest: vex.vex_digest,
      vex_statuses: statuses,
      evaluation_id: evaluation.evaluation_id,
      policy_version: evaluation.policy_version,
      policy_digest: evaluation.policy_digest,
      verdict: evaluation.verdict,
      decisions: evaluation.counts,
      decisions_digest: evaluation.decisions_digest,
      export_id: exported.export_id,
      export_digest: exported.export_digest,
    };
  });
}
