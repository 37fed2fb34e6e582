import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { jcs, type JsonObject } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import { parseDsseEnvelope, signDsse, verifyDsse, type DsseEnvelope } from '../dsse/dsse.js';
import type { Keyring } from '../keys/keyring.js';
import { loadPublicKey, type Signer, type VerificationKey } from '../keys/signer.js';
import { failure, type VerificationFailure } from '../verification-failure.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** buildType of Task Runner jobs and Export Center exports. */
export const JOB_BUILD_TYPE = 'https://stella-ops.org/provenance/task-runner-job/v1';
export const EXPORT_BUILD_TYPE = 'https://stella-ops.org/provenance/export-center-export/v1';

/** in-toto ResourceDescriptor (the parts we use). */
export interface ResourceDescriptor {
  readonly name?: string;
  readonly uri?: string;
  /** Algorithm → lowercase hex, e.g. { sha256: "…" }. */
  readonly digest?: Readonly<Record<string, string>>;
  readonly mediaType?: string;
  readonly annotations?: JsonObject;
}

export interface Subject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface SlsaProvenancePredicate {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: JsonObject;
    readonly internalParameters?: JsonObject;
    readonly resolvedDependencies?: readonly ResourceDescriptor[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string; readonly version?: Readonly<Record<string, string>>; readonly builderDependencies?: readonly ResourceDescriptor[] };
    readonly metadata?: { readonly invocationId?: string; readonly startedOn?: string; readonly finishedOn?: string };
    readonly byproducts?: readonly ResourceDescriptor[];
  };
}

export interface InTotoStatement<P = SlsaProvenancePredicate> {
  readonly _type: typeof IN_TOTO_STATEMENT_V1;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: P;
}

export interface ProvenanceInput {
  readonly subjects: readonly Subject[];
  readonly buildType: string;
  readonly externalParameters: JsonObject;
  readonly internalParameters?: JsonObject;
  readonly resolvedDependencies?: readonly ResourceDescriptor[];
  /** The builder identity (for jobs: the Task Runner). */
  readonly builderId: string;
  readonly builderVersion?: Readonly<Record<string, string>>;
  readonly builderDependencies?: readonly ResourceDescriptor[];
  readonly invocationId?: string;
  readonly startedOn?: Date | string;
  readonly finishedOn?: Date | string;
  readonly byproducts?: readonly ResourceDescriptor[];
}

const HEX = /^[0-9a-f]+$/;

function isoOpt(v: Date | string | undefined, what: string): string | undefined {
  if (v === undefined) return undefined;
  const d = typeof v === 'string' ? new Date(v) : v;
  if (Number.isNaN(d.getTime())) throw new ForensicsError('invalid_argument', `${what} is not a valid time`);
  return d.toISOString();
}

function checkSubjects(subjects: readonly Subject[]): void {
  if (!Array.isArray(subjects) || subjects.length === 0) throw new ForensicsError('invalid_argument', 'a statement needs at least one subject');
  for (const s of subjects) {
    if (!s || typeof s.name !== 'string' || !s.digest || typeof s.digest !== 'object' || Object.keys(s.digest).length === 0) {
      throw new ForensicsError('invalid_argument', 'each subject needs a name and a digest');
    }
    for (const [alg, value] of Object.entries(s.digest)) {
      if (typeof value !== 'string' || !HEX.test(value)) throw new ForensicsError('invalid_argument', `subject ${s.name}: digest ${alg} must be lowercase hex`);
    }
  }
}

/** in-toto Statement v1 with a SLSA Provenance v1 predicate (ATT-1). */
export function createProvenanceStatement(input: ProvenanceInput): InTotoStatement {
  checkSubjects(input.subjects);
  if (!input.buildType || !input.builderId) throw new ForensicsError('invalid_argument', 'buildType and builderId are required');
  const startedOn = isoOpt(input.startedOn, 'startedOn');
  const finishedOn = isoOpt(input.finishedOn, 'finishedOn');
  const metadata = {
    ...(input.invocationId ? { invocationId: input.invocationId } : {}),
    ...(startedOn ? { startedOn } : {}),
    ...(finishedOn ? { finishedOn } : {}),
  };
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: input.subjects.map((s) => ({ name: s.name, digest: { ...s.digest } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: input.buildType,
        externalParameters: input.externalParameters,
        ...(input.internalParameters ? { internalParameters: input.internalParameters } : {}),
        ...(input.resolvedDependencies ? { resolvedDependencies: input.resolvedDependencies } : {}),
      },
      runDetails: {
        builder: {
          id: input.builderId,
          ...(input.builderVersion ? { version: input.builderVersion } : {}),
          ...(input.builderDependencies ? { builderDependencies: input.builderDependencies } : {}),
        },
        ...(Object.keys(metadata).length ? { metadata } : {}),
        ...(input.byproducts ? { byproducts: input.byproducts } : {}),
      },
    },
  };
}

export interface JobProvenanceInput {
  readonly jobId: string;
  /** Task Runner identity, e.g. "https://stella-ops.org/task-runner/<instance>". */
  readonly builderId: string;
  readonly runnerImage: ResourceDescriptor;
  readonly outputs: readonly Subject[];
  /** Source repositories, SBOMs and other fetched inputs. */
  readonly sources?: readonly ResourceDescriptor[];
  readonly inputs?: readonly ResourceDescriptor[];
  readonly policies?: readonly ResourceDescriptor[];
  /** Advisory documents with their versions (as digests/annotations). */
  readonly advisories?: readonly ResourceDescriptor[];
  readonly parameters?: JsonObject;
  readonly startedOn?: Date | string;
  readonly finishedOn?: Date | string;
  /** Digest of the job's evidence capsule, linked as a byproduct. */
  readonly evidenceBundle?: ResourceDescriptor;
}

function tagged(kind: string, list: readonly ResourceDescriptor[] | undefined): ResourceDescriptor[] {
  return (list ?? []).map((d) => ({ ...d, annotations: { ...d.annotations, 'stellaops.role': kind } }));
}

/** Provenance for a Task Runner job: outputs as subjects, runner image, sources, inputs, policies and advisories as dependencies. */
export function jobProvenance(input: JobProvenanceInput): InTotoStatement {
  return createProvenanceStatement({
    subjects: input.outputs,
    buildType: JOB_BUILD_TYPE,
    externalParameters: { jobId: input.jobId, ...input.parameters },
    resolvedDependencies: [
      ...tagged('runner-image', [input.runnerImage]),
      ...tagged('source', input.sources),
      ...tagged('input', input.inputs),
      ...tagged('policy', input.policies),
      ...tagged('advisory', input.advisories),
    ],
    builderId: input.builderId,
    builderDependencies: [input.runnerImage],
    invocationId: input.jobId,
    ...(input.startedOn ? { startedOn: input.startedOn } : {}),
    ...(input.finishedOn ? { finishedOn: input.finishedOn } : {}),
    ...(input.evidenceBundle ? { byproducts: tagged('evidence', [input.evidenceBundle]) } : {}),
  });
}

export interface ExportProvenanceInput {
  readonly exportId: string;
  readonly builderId: string;
  readonly files: readonly Subject[];
  readonly sources?: readonly ResourceDescriptor[];
  readonly policies?: readonly ResourceDescriptor[];
  readonly advisories?: readonly ResourceDescriptor[];
  readonly recipients?: readonly string[];
  readonly parameters?: JsonObject;
  readonly startedOn?: Date | string;
  readonly finishedOn?: Date | string;
  readonly evidenceBundle?: ResourceDescriptor;
}

/** Provenance for an Export Center export: exported files as subjects. */
export function exportProvenance(input: ExportProvenanceInput): InTotoStatement {
  return createProvenanceStatement({
    subjects: input.files,
    buildType: EXPORT_BUILD_TYPE,
    externalParameters: { exportId: input.exportId, ...(input.recipients ? { recipients: [...input.recipients].sort() } : {}), ...input.parameters },
    resolvedDependencies: [...tagged('source', input.sources), ...tagged('policy', input.policies), ...tagged('advisory', input.advisories)],
    builderId: input.builderId,
    invocationId: input.exportId,
    ...(input.startedOn ? { startedOn: input.startedOn } : {}),
    ...(input.finishedOn ? { finishedOn: input.finishedOn } : {}),
    ...(input.evidenceBundle ? { byproducts: tagged('evidence', [input.evidenceBundle]) } : {}),
  });
}

/** DSSE-signs a statement (payloadType application/vnd.in-toto+json, compact canonical JSON payload). */
export async function signStatement(statement: InTotoStatement<unknown>, signers: Signer | readonly Signer[]): Promise<DsseEnvelope> {
  return signDsse(jcs(statement), IN_TOTO_PAYLOAD_TYPE, signers);
}

/** An artifact to match against subjects: a file path, bytes, or a known digest. */
export type AttestationArtifact = string | Uint8Array | { readonly sha256: string };

export interface VerifyAttestationOptions {
  readonly publicKey?: string | KeyObject | VerificationKey | readonly (string | KeyObject | VerificationKey)[];
  readonly keyring?: Keyring;
  /** With a keyring: when it was signed. Default: the predicate's finishedOn, else startedOn. */
  readonly signedAt?: Date;
  readonly threshold?: number;
  /** Every artifact must match some subject's sha256. */
  readonly artifacts?: readonly AttestationArtifact[];
}

export interface AttestationVerification {
  readonly ok: boolean;
  readonly failures: readonly VerificationFailure[];
  readonly statement?: InTotoStatement<unknown>;
  /** Keys whose signatures verified (ATT-2: report the signer). */
  readonly signerKeyIds: readonly string[];
  /** The time the keys were checked at, when known (ATT-2: report the time). */
  readonly signedAt?: string;
  /**
   * Always `asserted`: the time comes from the statement itself (finishedOn/startedOn) or the
   * caller, not from a TSA — a signer holding a retired key could backdate it.
   */
  readonly signedAtSource: 'asserted';
  /** Subjects matched by the supplied artifacts. */
  readonly matchedSubjects: readonly Subject[];
}

async function sha256Of(artifact: AttestationArtifact): Promise<string> {
  if (typeof artifact === 'string') {
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(artifact, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    } catch (cause) {
      throw new ForensicsError('io_error', `cannot read artifact ${artifact}: ${(cause as Error).message}`, { cause });
    }
    return hash.digest('hex');
  }
  if (artifact instanceof Uint8Array) return createHash('sha256').update(artifact).digest('hex');
  return artifact.sha256.toLowerCase();
}

/** Verify on read (ATT-2): signature by a trusted key, statement shape, and subject digests against the artifacts. */
export async function verifyAttestation(envelope: DsseEnvelope | string | Uint8Array, options: VerifyAttestationOptions): Promise<AttestationVerification> {
  if (!options.keyring && options.publicKey === undefined) throw new ForensicsError('invalid_argument', 'verification needs a trusted public key or a key ring');
  const failures: VerificationFailure[] = [];
  let env: DsseEnvelope;
  try {
    env = parseDsseEnvelope(envelope as unknown);
  } catch (err) {
    return { ok: false, failures: [failure('envelope_invalid', (err as Error).message)], signerKeyIds: [], matchedSubjects: [], signedAtSource: 'asserted' };
  }
  let statement: InTotoStatement<unknown> | undefined;
  try {
    const parsed = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as InTotoStatement<unknown>;
    if (parsed?._type !== IN_TOTO_STATEMENT_V1) failures.push(failure('statement_invalid', `statement _type is ${JSON.stringify(parsed?._type)}, expected ${IN_TOTO_STATEMENT_V1}`));
    else if (!Array.isArray(parsed.subject) || parsed.subject.length === 0) failures.push(failure('statement_invalid', 'statement has no subjects'));
    else statement = parsed;
  } catch {
    failures.push(failure('statement_invalid', 'payload is not JSON'));
  }
  const meta = (statement?.predicate as SlsaProvenancePredicate | undefined)?.runDetails?.metadata;
  const claimed = meta?.finishedOn ?? meta?.startedOn;
  const signedAt = options.signedAt ?? (claimed ? new Date(claimed) : undefined);
  let signerKeyIds: readonly string[] = [];
  if (options.keyring && (!signedAt || Number.isNaN(signedAt.getTime()))) {
    failures.push(failure('statement_invalid', 'cannot check key validity: no signing time (pass signedAt or set runDetails.metadata.finishedOn)'));
  } else {
    const keys = options.keyring ? undefined : (Array.isArray(options.publicKey) ? options.publicKey : [options.publicKey]).map((k) =>
      typeof k === 'object' && 'keyId' in k && 'publicKeyPem' in k ? (k as VerificationKey) : loadPublicKey(k as string | KeyObject),
    );
    const v = verifyDsse(env, {
      ...(keys ? { keys } : { keyring: options.keyring!, signedAt: signedAt! }),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      ...(options.threshold ? { threshold: options.threshold } : {}),
    });
    failures.push(...v.failures);
    signerKeyIds = v.verifiedKeyIds;
  }
  const matched: Subject[] = [];
  if (statement) {
    for (const artifact of options.artifacts ?? []) {
      const digest = await sha256Of(artifact);
      const subject = statement.subject.find((s) => s.digest?.sha256?.toLowerCase() === digest);
      if (subject) matched.push(subject);
      else {
        const label = typeof artifact === 'string' ? artifact : 'artifact';
        failures.push(failure('subject_mismatch', `${label} (sha256 ${digest}) matches no subject of the attestation`, typeof artifact === 'string' ? { path: artifact } : {}));
      }
    }
  }
  return {
    ok: failures.length === 0,
    failures,
    ...(statement ? { statement } : {}),
    signerKeyIds,
    ...(signedAt && !Number.isNaN(signedAt.getTime()) ? { signedAt: signedAt.toISOString() } : {}),
    signedAtSource: 'asserted',
    matchedSubjects: matched,
  };
}
