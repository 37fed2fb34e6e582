/**
 * Snapshots (SPEC EVI-2, EVI-4): gathers what the service holds about one resource — the
 * artifacts services attached to it (by digest), its timeline events with their digests, and
 * the decision records of its traces — lays them out for the kind and commits the bundle.
 * Artifacts keep the bytes they were uploaded with (AOC: never cleaned up).
 *
 * One snapshot of a case at a time, cluster-wide (SCALE-1): a snapshot holds its case
 * (case-locks.ts) while it gathers and commits, so a second one at the same moment — through
 * any replica — is refused with 409 `evidence.snapshot_in_progress` instead of committing a
 * second bundle; the locker's commit protocol makes the one bundle whole or absent.
 */
import { createHash } from 'node:crypto';
import { jcsBytes, validateContentPath, type BundleFileInput, type EvidenceKind } from '@stellaops/forensics';
import { BlobError } from '../blob/blob-error.js';
import { artifactKey } from '../blob/object-keys.js';
import { ServiceError } from '../errors.js';
import { newArtifactId, type CaseHold, type EvidenceLocker } from './evidence-locker.js';
import type { ArtifactRow, BundleRow, EvidenceRepository } from './evidence-repository.js';
import type { ObjectStore } from '../blob/object-store.js';
import type { TimelineRepository } from '../timeline/timeline-repository.js';

/** Artifact roles and the bundle folder each lands in. */
export const ARTIFACT_ROLES = {
  sbom: 'sbom',
  advisory: 'advisories',
  vex: 'vex',
  policy: 'policies',
  config: 'config',
  engine: 'engine',
  input: 'inputs',
  output: 'outputs',
  transcript: 'transcript',
  job: 'job',
  'export-file': 'export',
  recipients: 'recipients',
  attachment: 'attachments',
} as const;
export type ArtifactRole = keyof typeof ARTIFACT_ROLES;

/** The resource type a kind snapshots when the request names none. */
export const DEFAULT_RESOURCE_TYPE: Record<EvidenceKind, string> = {
  evaluation: 'evaluation',
  'job-capsule': 'job',
  export: 'export',
};

const MAX_EVENTS = 10_000;
const MAX_DECISIONS = 10_000;

export interface SnapshotRequest {
  kind: EvidenceKind;
  case_id: string;
  resource_id: string;
  resource_type?: string;
  labels?: Record<string, string>;
}

export interface ArtifactUpload {
  resource_type: string;
  resource_id: string;
  role: ArtifactRole;
  name: string;
  media_type: string;
  content: Buffer;
  /** `sha256:<hex>` the caller computed; checked against the bytes. */
  digest?: string;
}

function json(value: unknown): Buffer {
  return jcsBytes(value);
}

/** What snapshots use: the locker (to commit), its repository (artifacts, inputs) and the object store (artifact contents). */
export interface SnapshotDeps {
  locker: Pick<EvidenceLocker, 'commit' | 'holdingCase'>;
  repository: EvidenceRepository;
  objects: ObjectStore;
  /** The resource's recorded events (the timeline owns them). */
  timeline: Pick<TimelineRepository, 'resourceEvents'>;
}

export class SnapshotService {
  constructor(private readonly deps: SnapshotDeps) {}

  /** Stores an artifact content-addressed; the same name with the same bytes is a no-op. */
  async attach(tenant: string, upload: ArtifactUpload): Promise<{ artifact: ArtifactRow; created: boolean }> {
    try {
      validateContentPath(upload.name);
    } catch (error) {
      throw new ServiceError('evidence.id_invalid', `name: ${(error as Error).message}`, { field: 'body.name' });
    }
    const sha256 = createHash('sha256').update(upload.content).digest('hex');
    if (upload.digest && upload.digest !== `sha256:${sha256}`) {
      throw new ServiceError('evidence.archive_invalid', `the content's digest is sha256:${sha256}, not ${upload.digest}`, { field: 'body.digest' });
    }
    const repo = this.deps.repository;
    const existing = await repo.findArtifact(tenant, upload.resource_type, upload.resource_id, upload.role, upload.name);
    if (existing) {
      if (existing.sha256 === sha256) return { artifact: existing, created: false };
      throw new ServiceError(
        'evidence.artifact_conflict',
        `${upload.role} "${upload.name}" of ${upload.resource_type}/${upload.resource_id} was already attached with sha256:${existing.sha256}; attached artifacts are immutable`,
        { field: 'body.name' },
      );
    }
    const prefix = `${artifactKey(tenant, sha256)}/`;
    try {
      if (!(await this.deps.objects.exists(prefix))) await this.deps.objects.commit(prefix, [{ path: 'content', body: upload.content }], {});
    } catch (error) {
      // Another upload of the same bytes won the race: content addressing makes that a success.
      if (!(error instanceof BlobError && error.code === 'blob.exists')) {
        throw new ServiceError('evidence.storage_unavailable', 'the evidence store is unavailable; retry shortly', { cause: error });
      }
    }
    const artifact = await repo.insertArtifact(tenant, {
      id: newArtifactId(),
      resource_type: upload.resource_type,
      resource_id: upload.resource_id,
      role: upload.role,
      name: upload.name,
      media_type: upload.media_type,
      sha256,
      size: upload.content.length,
    });
    return { artifact, created: true };
  }

  async snapshot(tenant: string, request: SnapshotRequest): Promise<BundleRow> {
    return this.deps.locker.holdingCase(tenant, request.case_id, (hold) => this.snapshotHeld(tenant, request, hold));
  }

  private async snapshotHeld(tenant: string, request: SnapshotRequest, hold: CaseHold): Promise<BundleRow> {
    const repo = this.deps.repository;
    const resourceType = request.resource_type ?? DEFAULT_RESOURCE_TYPE[request.kind];
    const [artifacts, events] = await Promise.all([
      repo.artifactsFor(tenant, resourceType, request.resource_id),
      this.deps.timeline.resourceEvents(tenant, resourceType, request.resource_id, MAX_EVENTS),
    ]);
    if (artifacts.length === 0 && events.length === 0) {
      throw new ServiceError(
        'evidence.inputs_missing',
        `the service holds nothing about ${resourceType}/${request.resource_id}: attach artifacts with POST /evidence/artifacts or emit timeline events for it first`,
        { field: 'body.resource_id' },
      );
    }
    const traceIds = [...new Set(events.map((e) => e.trace_id).filter((t): t is string => !!t))].sort();
    const decisions = await repo.decisionsFor(tenant, traceIds, request.resource_id, MAX_DECISIONS);

    const files: BundleFileInput[] = [];
    for (const a of artifacts) {
      const key = `${artifactKey(tenant, a.sha256)}/content`;
      files.push({ path: `${ARTIFACT_ROLES[a.role as ArtifactRole] ?? 'attachments'}/${a.name}`, size: a.size, source: () => this.deps.objects.get(key) });
    }
    files.push({ path: 'timeline/events.json', source: json(events) });
    files.push({ path: 'decisions/records.json', source: json(decisions) });
    files.push({
      path: 'inputs.json',
      source: json({
        resource: { type: resourceType, id: request.resource_id },
        artifacts: artifacts.map((a) => ({ id: a.id, role: a.role, name: a.name, media_type: a.media_type, sha256: a.sha256, size: a.size })),
        timeline: events.map((e) => ({ event_id: e.event_id, kind: e.kind, ts: e.ts, digest: e.digest })),
        trace_ids: traceIds,
        decisions: decisions.length,
      }),
    });
    return this.deps.locker.commit(tenant, {
      kind: request.kind,
      caseId: request.case_id,
      resourceType,
      resourceId: request.resource_id,
      files,
      metadata: { resource_type: resourceType, resource_id: request.resource_id, artifacts: artifacts.length, events: events.length, decisions: decisions.length },
      ...(request.labels ? { labels: request.labels } : {}),
      hold,
    });
  }
}
