/** The job contract between orchestrator and task-runner. */
import type { SerializedJobContext } from '@stellaops/telemetry-core';

export const JOB_TYPES = ['advisory.ingest', 'evaluation.run'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export interface AdvisoryIngestParams {
  feed: string;
}

export interface EvaluationParams {
  /** SBOM source to fetch (a published CycloneDX document). */
  source_id: string;
  /** VEX document for the product. */
  vex_source: string;
}

/** What travels from orchestrator to runner: plain JSON, with the producer's trace context. */
export interface JobPayload {
  job_id: string;
  type: JobType;
  params: AdvisoryIngestParams | EvaluationParams;
  telemetry: SerializedJobContext;
}

export type JobState = 'queued' | 'started' | 'finished' | 'failed';

export interface JobRecord {
  job_id: string;
  type: JobType;
  tenant_id: string;
  state: JobState;
  trace_id: string | null;
  scheduled_at: string;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  /** The job's provenance attestation, once the runner recorded it. */
  attestation_id: string | null;
}

export interface EvaluationResult {
  source_id: string;
  source_digest: string;
  sbom_id: string;
  sbom_digest: string;
  components: number;
  findings: number;
  findings_digest: string;
  vex_digest: string;
  vex_statuses: Record<string, number>;
  evaluation_id: string;
  policy_version: string;
  policy_digest: string;
  verdict: string;
  decisions: { allow: number; warn: number; deny: number };
  decisions_digest: string;
  linkset_digest: string;
  exposure: number;
  export_id: string;
  export_digest: string;
  export_attestation_id: string | null;
}
