/**
 * task-runner: executes jobs. It restores the payload's trace context (`runner.execute` is a
 * child of `orchestrator.schedule`), runs the steps as HTTP calls to the services that own
 * them, keeps a transcript, files the job capsule's parts (payload, inputs, outputs,
 * transcript, hashed environment) and the evaluation's inputs with the evidence locker,
 * records a provenance attestation for a finished job, and reports started/finished/failed
 * back to the orchestrator.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { jobProvenance } from '@stellaops/forensics';
import { canonicalJson, restoreJobContext, withContext, type Logger } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import type { Finding } from './conseiller.js';
import { sha256 } from './digest.js';
import type { ReconciledFinding } from './excitator.js';
import type { AdvisoryIngestParams, EvaluationParams, EvaluationResult, JobPayload } from './jobs.js';
import type { Decision } from './policy-engine.js';
import { rootErrorCode, WORKLOAD_VERSION, type WorkloadRuntime } from './service-host.js';
import type { WorkloadServiceName } from './workload-config.js';

interface TranscriptEntry {
  step: string;
  call: string;
  started_at: string;
  duration_ms: number;
  outcome: 'ok' | 'error';
  error_code?: string;
}

/** Calls one step of a job and writes it to the transcript. */
type Step = <T>(step: string, peer: WorkloadServiceName, path: string, init?: { method?: string; body?: unknown }) => Promise<T>;

export const RUNNER_BUILDER_ID = `https://stellaops.example/builders/task-runner@${WORKLOAD_VERSION}`;

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
      void restoreJobContext(payload.telemetry, () => withContext({ job_id: payload.job_id, run_id: `${payload.job_id}-r1` }, () => execute(rt, payload)), { mode: 'continue', spanName: 'runner.execute' })
        .catch((error: unknown) => rt.logger.error({ err: error, details: { job_id: payload.job_id } }, 'job failed outside its own error handling'))
        .finally(() => running--);
    });
    return reply.code(202).send({ accepted: payload.job_id, running: running + 1 });
  });
}

/** Environment of the run with every value hashed: comparable across runs, never revealing. */
function environmentDigest(): Record<string, unknown> {
  const vars = Object.keys(process.env)
    .filter((k) => /^(STELLA_|NODE_|OTEL_)/.test(k))
    .sort()
    .map((k) => ({ name: k, sha256: createHash('sha256').update(process.env[k] ?? '').digest('hex') }));
  return { node: process.version, platform: process.platform, arch: process.arch, runner: RUNNER_BUILDER_ID, variables: vars };
}

async function execute(rt: WorkloadRuntime, payload: JobPayload): Promise<void> {
  const log: Logger = rt.logger;
  const transcript: TranscriptEntry[] = [];
  const step: Step = async <T>(name: string, peer: WorkloadServiceName, path: string, init?: { method?: string; body?: unknown }): Promise<T> => {
    const t0 = Date.now();
    try {
      const out = await rt.call<T>(peer, path, init);
      transcript.push({ step: name, call: `${init?.body !== undefined ? 'POST' : 'GET'} ${peer}${path}`, started_at: new Date(t0).toISOString(), duration_ms: Date.now() - t0, outcome: 'ok' });
      return out;
    } catch (err) {
      transcript.push({ step: name, call: `${init?.body !== undefined ? 'POST' : 'GET'} ${peer}${path}`, started_at: new Date(t0).toISOString(), duration_ms: Date.now() - t0, outcome: 'error', error_code: rootErrorCode(err) });
      throw err;
    }
  };
  const report = (state: 'started' | 'finished' | 'failed', extra: Record<string, unknown> = {}): Promise<unknown> =>
    rt.call('orchestrator', `/jobs/${payload.job_id}/state`, { body: { state, ...extra } }).catch((err: unknown) => log.error({ err }, 'job state not reported'));
  const startedOn = new Date();
  await report('started');
  log.info({ resource: 'job', action: 'execute', details: { type: payload.type } }, 'job started');
  let outcome: { result: Record<string, unknown> } | { error: { code: string; message: string } };
  try {
    const result = payload.type === 'advisory.ingest' ? await ingest(step, payload.params as AdvisoryIngestParams) : await evaluate(rt, step, payload.params as EvaluationParams);
    outcome = { result: result as unknown as Record<string, unknown> };
  } catch (err) {
    const code = rootErrorCode(err);
    log.error({ err, error_code: code }, 'job failed');
    outcome = { error: { code, message: (err as Error).message } };
  }
  const capsule = await fileJobCapsule(rt, payload, transcript, outcome);
  if ('result' in outcome) {
    const attestationId = rt.config.features.attestations ? await attestJob(rt, payload, startedOn, capsule, outcome.result) : undefined;
    await report('finished', { result: outcome.result, ...(attestationId ? { attestation_id: attestationId } : {}) });
    log.info({ resource: 'job', action: 'finish' }, 'job finished');
  } else {
    await report('failed', { error: outcome.error });
  }
}

/** The job capsule's parts (EVI-2), attached to `job/<id>` so a snapshot can gather them. */
async function fileJobCapsule(rt: WorkloadRuntime, payload: JobPayload, transcript: TranscriptEntry[], outcome: object): Promise<{ result?: string }> {
  if (!rt.config.features.evidence) return {};
  const resource = { type: 'job', id: payload.job_id };
  const output = canonicalJson(outcome);
  await Promise.all([
    rt.stella.attach(resource, 'job', 'payload.json', canonicalJson(payload)),
    rt.stella.attach(resource, 'input', 'params.json', canonicalJson(payload.params)),
    rt.stella.attach(resource, 'output', 'outcome.json', output),
    rt.stella.attach(resource, 'transcript', 'transcript.json', canonicalJson(transcript)),
    rt.stella.attach(resource, 'config', 'environment.json', canonicalJson(environmentDigest())),
  ]);
  return { result: sha256(output) };
}

async function attestJob(rt: WorkloadRuntime, payload: JobPayload, startedOn: Date, capsule: { result?: string }, result: Record<string, unknown>): Promise<string | undefined> {
  const r = result as Partial<EvaluationResult>;
  const outcomeDigest = capsule.result ?? sha256(canonicalJson({ result }));
  const statement = jobProvenance({
    jobId: payload.job_id,
    builderId: RUNNER_BUILDER_ID,
    runnerImage: { name: 'stellaops/task-runner', digest: { sha256: createHash('sha256').update(`${RUNNER_BUILDER_ID} ${process.version}`).digest('hex') } },
    outputs: [
      { name: 'outcome.json', digest: { sha256: outcomeDigest.slice(7) } },
      ...(r.export_digest ? [{ name: 'findings-report.json', digest: { sha256: r.export_digest.slice(7) } }] : []),
    ],
    ...(r.source_digest ? { sources: [{ name: r.source_id ?? 'source', digest: { sha256: r.source_digest.slice(7) } }] } : {}),
    ...(r.policy_digest ? { policies: [{ name: r.policy_version ?? 'policy', digest: { sha256: r.policy_digest.slice(7) } }] } : {}),
    parameters: { type: payload.type, params: payload.params as never },
    startedOn,
    finishedOn: new Date(),
  });
  return rt.stella.attest(payload.job_id, statement, { type: 'job', id: payload.job_id });
}

function ingest(step: Step, params: AdvisoryIngestParams): Promise<Record<string, unknown>> {
  return step('advisory ingest', 'conseiller', '/advisories/ingest', { body: { feed: params.feed } });
}

/** Source fetch → SBOM compute → policy evaluate (over matched advisories and VEX) → advisory link → export. */
async function evaluate(rt: WorkloadRuntime, step: Step, params: EvaluationParams): Promise<EvaluationResult> {
  const source = await step<{ source_id: string; source_digest: string; document: string }>('source fetch', 'sbom-service', `/sources/${encodeURIComponent(params.source_id)}`);
  const sbom = await step<{ sbom_id: string; sbom_digest: string; components_digest: string; components: number }>('sbom compute', 'sbom-service', '/sboms', {
    body: { source_id: source.source_id, source_digest: source.source_digest, document: source.document },
  });
  return withContext({ sbom_id: sbom.sbom_id, source_id: source.source_id }, async () => {
    const matched = await step<{ findings: Finding[]; findings_digest: string }>('advisory match', 'conseiller', '/advisories/match', { body: { sbom_id: sbom.sbom_id } });
    const vex = await step<{ findings: ReconciledFinding[]; vex_digest: string }>('vex reconcile', 'excitator', '/vex/reconcile', {
      body: { sbom_id: sbom.sbom_id, vex_source: params.vex_source, findings: matched.findings },
    });
    const evaluation = await step<{ evaluation_id: string; policy_version: string; policy_digest: string; verdict: string; counts: { allow: number; warn: number; deny: number }; decisions_digest: string; decisions: Decision[] }>(
      'policy evaluate',
      'policy-engine',
      '/policy/evaluate',
      { body: { sbom_id: sbom.sbom_id, components_digest: sbom.components_digest, findings: vex.findings } },
    );
    const linked = await step<{ linkset_digest: string; exposure: number }>('advisory link', 'conseiller', '/advisories/link', {
      body: { sbom_id: sbom.sbom_id, evaluation_id: evaluation.evaluation_id, decisions_digest: evaluation.decisions_digest, decisions: evaluation.decisions, findings: matched.findings },
    });
    const exported = await step<{ export_id: string; export_digest: string; attestation_id: string | null }>('export', 'export-center', '/exports', {
      body: {
        sbom_id: sbom.sbom_id,
        sbom_digest: sbom.sbom_digest,
        evaluation,
        findings: vex.findings,
        linkset_digest: linked.linkset_digest,
        inputs: { source: source.source_digest, sbom: sbom.sbom_digest, findings: matched.findings_digest, vex: vex.vex_digest, policy: evaluation.policy_digest },
      },
    });
    if (rt.config.features.evidence) await fileEvaluationInputs(rt, evaluation.evaluation_id, source, params.vex_source, matched.findings);
    const statuses: Record<string, number> = {};
    for (const f of vex.findings) statuses[f.vex_status] = (statuses[f.vex_status] ?? 0) + 1;
    return {
      source_id: source.source_id,
      source_digest: source.source_digest,
      sbom_id: sbom.sbom_id,
      sbom_digest: sbom.sbom_digest,
      components: sbom.components,
      findings: matched.findings.length,
      findings_digest: matched.findings_digest,
      vex_digest: vex.vex_digest,
      vex_statuses: statuses,
      evaluation_id: evaluation.evaluation_id,
      policy_version: evaluation.policy_version,
      policy_digest: evaluation.policy_digest,
      verdict: evaluation.verdict,
      decisions: evaluation.counts,
      decisions_digest: evaluation.decisions_digest,
      linkset_digest: linked.linkset_digest,
      exposure: linked.exposure,
      export_id: exported.export_id,
      export_digest: exported.export_digest,
      export_attestation_id: exported.attestation_id,
    };
  });
}

/** The evaluation bundle's source material, exactly as the services saw it: the SBOM slice, the advisories linked, the VEX document. */
async function fileEvaluationInputs(rt: WorkloadRuntime, evaluationId: string, source: { source_id: string; document: string }, vexSource: string, findings: Finding[]): Promise<void> {
  const resource = { type: 'evaluation', id: evaluationId };
  const advisoryIds = [...new Set(findings.map((f) => f.advisory_id))].sort();
  // Documents are fetched as text so the bytes — and their digests — are exactly what was received.
  const advisories = await Promise.all(advisoryIds.map(async (id) => [id, await rt.callText('conseiller', `/advisories/${encodeURIComponent(id)}`)] as const));
  const vexDoc = await rt.callText('excitator', `/vex/documents/${encodeURIComponent(vexSource)}`);
  await Promise.all([
    rt.stella.attach(resource, 'sbom', `${source.source_id}.cdx.json`, source.document, 'application/vnd.cyclonedx+json'),
    rt.stella.attach(resource, 'vex', `${vexSource}.openvex.json`, vexDoc, 'application/openvex+json'),
    ...advisories.map(([id, raw]) => rt.stella.attach(resource, 'advisory', `${id}.json`, raw, 'application/osv+json')),
  ]);
}
