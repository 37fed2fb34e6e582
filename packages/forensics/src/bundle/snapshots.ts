import { createHash } from 'node:crypto';
import { jcs, jcsBytes, type JsonObject, type JsonValue } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import { buildEvidenceBundle, type BuildEvidenceBundleOptions, type BundleFileInput, type EvidenceBundle, type FileSource } from './build.js';

/**
 * Builders for the three snapshot kinds of SPEC EVI-2. Each lays its inputs out under fixed
 * folders and records a kind-specific summary in the manifest's `metadata`, then defers to
 * buildEvidenceBundle; the verifier treats all kinds alike.
 */
export type SnapshotCommon = Omit<BuildEvidenceBundleOptions, 'kind' | 'files' | 'metadata'>;

/** A named input document. */
export interface NamedSource {
  /** File name inside its folder (may contain "/"). */
  readonly name: string;
  readonly source: FileSource;
  readonly size?: number;
}

function json(value: unknown): Buffer {
  return jcsBytes(value);
}

function named(folder: string, items: readonly NamedSource[]): BundleFileInput[] {
  return items.map((i) => ({ path: `${folder}/${i.name}`, source: i.source, ...(i.size !== undefined ? { size: i.size } : {}) }));
}

export interface EvaluationSnapshot {
  /** The SBOM slice the policy saw (e.g. CycloneDX JSON). */
  readonly sbom: NamedSource;
  /** Linked advisories as received (AOC: never cleaned up). */
  readonly advisories: readonly NamedSource[];
  readonly vex: readonly NamedSource[];
  readonly policies: readonly NamedSource[];
  readonly engineVersion: string;
  readonly config: JsonObject;
  /** The decision trace: a JSON value, or a file/stream of one. */
  readonly decisionTrace: JsonValue | { readonly source: FileSource; readonly size?: number };
}

/** Evaluation bundle: SBOM slice, linked advisories, VEX inputs, policy set, engine version, config, decision trace. */
export async function buildEvaluationBundle(options: SnapshotCommon & { readonly evaluation: EvaluationSnapshot }): Promise<EvidenceBundle> {
  const e = options.evaluation;
  if (typeof e.engineVersion !== 'string' || !e.engineVersion) throw new ForensicsError('invalid_argument', 'evaluation.engineVersion is required');
  const trace = e.decisionTrace as { source?: FileSource; size?: number } | null;
  const traceFile: BundleFileInput =
    trace && typeof trace === 'object' && !Array.isArray(trace) && 'source' in trace && trace.source !== undefined
      ? { path: 'decision-trace.json', source: trace.source, ...(trace.size !== undefined ? { size: trace.size } : {}) }
      : { path: 'decision-trace.json', source: json(e.decisionTrace) };
  const { evaluation: _evaluation, ...common } = options;
  return buildEvidenceBundle({
    ...common,
    kind: 'evaluation',
    files: [
      { path: `sbom/${e.sbom.name}`, source: e.sbom.source, ...(e.sbom.size !== undefined ? { size: e.sbom.size } : {}) },
      ...named('advisories', e.advisories),
      ...named('vex', e.vex),
      ...named('policies', e.policies),
      { path: 'engine.json', source: json({ engineVersion: e.engineVersion }) },
      { path: 'config.json', source: json(e.config) },
      traceFile,
    ],
    metadata: {
      engineVersion: e.engineVersion,
      sbom: e.sbom.name,
      advisories: e.advisories.length,
      vex: e.vex.length,
      policies: e.policies.length,
    },
  });
}

export interface HashedEnvironment {
  /** Hex SHA-256 over the canonical JSON of `variables`. */
  readonly digest: string;
  /** NAME → hex SHA-256("NAME=value"). Values never leave the process. */
  readonly variables: Readonly<Record<string, string>>;
}

/**
 * Hashes environment variables one by one, so an auditor who knows a value can confirm it
 * (sha256 of "NAME=value") while the capsule never holds it. Low-entropy values (true, 1) can be
 * guessed from their hash; secrets with real entropy cannot.
 */
export function hashEnvironment(env: Readonly<Record<string, string | undefined>>): HashedEnvironment {
  const variables: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined) continue;
    variables[name] = createHash('sha256').update(`${name}=${value}`, 'utf8').digest('hex');
  }
  return { digest: createHash('sha256').update(jcs(variables)).digest('hex'), variables };
}

export interface JobCapsule {
  readonly jobId: string;
  /** Digest of the runner image, e.g. "sha256:…". */
  readonly runnerImageDigest: string;
  readonly command: readonly string[];
  /** Inputs by digest only (the inputs themselves live in their own evidence). */
  readonly inputs: readonly { readonly name: string; readonly digest: Readonly<Record<string, string>> }[];
  readonly outputs: readonly NamedSource[];
  /** Hashed per variable; never stored raw. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Command transcript (stdout/stderr as captured). */
  readonly transcript: FileSource;
  readonly transcriptSize?: number;
  readonly exitCode?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** Job capsule: input digests, outputs, runner image digest, environment digest (variables hashed), transcript. */
export async function buildJobCapsule(options: SnapshotCommon & { readonly job: JobCapsule }): Promise<EvidenceBundle> {
  const j = options.job;
  if (!j.jobId || !j.runnerImageDigest) throw new ForensicsError('invalid_argument', 'job.jobId and job.runnerImageDigest are required');
  const environment = hashEnvironment(j.environment);
  const { job: _job, ...common } = options;
  const description = {
    jobId: j.jobId,
    runnerImageDigest: j.runnerImageDigest,
    command: j.command,
    inputs: j.inputs,
    environment,
    ...(j.exitCode !== undefined ? { exitCode: j.exitCode } : {}),
    ...(j.startedAt ? { startedAt: j.startedAt } : {}),
    ...(j.finishedAt ? { finishedAt: j.finishedAt } : {}),
  };
  return buildEvidenceBundle({
    ...common,
    kind: 'job-capsule',
    files: [
      { path: 'job.json', source: json(description) },
      ...named('outputs', j.outputs),
      { path: 'transcript.log', source: j.transcript, ...(j.transcriptSize !== undefined ? { size: j.transcriptSize } : {}) },
    ],
    metadata: { jobId: j.jobId, runnerImageDigest: j.runnerImageDigest, environmentDigest: environment.digest, outputs: j.outputs.length },
  });
}

export interface ExportSnapshot {
  readonly exportId: string;
  readonly files: readonly NamedSource[];
  readonly recipients: readonly string[];
  readonly format?: string;
}

/** Export manifest: the exported files with checksums, and who received them. */
export async function buildExportManifest(options: SnapshotCommon & { readonly export: ExportSnapshot }): Promise<EvidenceBundle> {
  const x = options.export;
  if (!x.exportId) throw new ForensicsError('invalid_argument', 'export.exportId is required');
  const recipients = [...x.recipients].sort();
  const { export: _export, ...common } = options;
  return buildEvidenceBundle({
    ...common,
    kind: 'export',
    files: [...named('export', x.files), { path: 'recipients.json', source: json({ exportId: x.exportId, recipients }) }],
    metadata: { exportId: x.exportId, recipients, files: x.files.length, ...(x.format ? { format: x.format } : {}) },
  });
}
