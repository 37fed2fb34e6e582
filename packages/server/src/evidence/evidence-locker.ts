/**
 * The evidence locker (SPEC EVI-1, EVI-3, EVI-4, EVI-5): commits signed bundles write-once
 * into the object store, records them, serves and verifies them, and enforces legal hold and
 * retention. Commit protocol: a journal row (evidence_commits) is written first, then the
 * objects (atomically on the file system), then the bundle row with its timeline event in one
 * transaction. `recover` settles journal rows an interrupted process left: a complete, valid
 * bundle is recorded; anything else is removed. A bundle is visible only once recorded.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  buildEvidenceBundle,
  CONTENT_PREFIX,
  ForensicsError,
  manifestLeafHash,
  merkleRoot,
  parseManifest,
  verifyBundleStream,
  type BundleFileInput,
  type BundleVerification,
  type EvidenceKind,
  type EvidenceManifest,
  type JsonObject,
  type ManifestFile,
} from '@stellaops/forensics';
import { uuidv7, type Logger, type TimelineEvent } from '@stellaops/telemetry-core';
import { BlobError } from '../blob/blob-error.js';
import { caseEvidencePrefix, evidencePrefix, isValidSegment } from '../blob/object-keys.js';
import type { ObjectStore } from '../blob/object-store.js';
import { KeyManagerError, type KeyManager } from '../keys/key-manager.js';
import type { KeepReason } from '../retention/policy.js';
import { archiveSize, bundleArchive, type ArchiveEntry } from './bundle-archive.js';
import { ServiceError } from '../errors.js';
import type { BundleRow, EvidenceRepository, HoldRow } from './evidence-repository.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import type { CounterPoint } from '../self/service-metrics.js';
import { LocalCaseLocks, type CaseLocks, type CaseRelease } from './case-locks.js';

const DAY_MS = 86_400_000;

/** Largest file `readFile` serves on its own (16 MiB); a larger one is read from the bundle archive. */
export const MAX_FILE_READ_BYTES = 16 * 1024 * 1024;

export interface EvidenceLockerOptions {
  repository: EvidenceRepository;
  objects: ObjectStore;
  keys: KeyManager;
  /** Bundle and audit events commit with the change they record. */
  audit: AuditTrail;
  logger: Logger;
  /** Clock. Default `Date.now`. */
  clock?: () => number;
  /** RFC 3161 stamping of each bundle's signature (`createHttpTimestamper(url)`); absent → no timestamps. */
  timestamper?: (data: Uint8Array) => Promise<Uint8Array>;
  /** PEM roots of trusted TSAs: with them verification reports a proven (`tsa`) signing time. */
  tsaTrustAnchors?: readonly string[];
  /** Object Lock mode for S3. Default `COMPLIANCE`. */
  lockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  /** `stella_evidence_commits_total{kind,outcome}`. Default: not counted. */
  commits?: CounterPoint;
  /** One commit per case at a time, cluster-wide (case-locks.ts). Default: held in this process. */
  caseLocks?: CaseLocks;
}

/** A case held for commits (`holdingCase`). */
export interface CaseHold {
  readonly tenant: string;
  readonly caseId: string;
}

export interface CommitRequest {
  kind: EvidenceKind;
  caseId: string;
  resourceType: string;
  resourceId: string;
  files: readonly BundleFileInput[];
  metadata?: JsonObject;
  labels?: Record<string, string>;
  /** Timeline event kind recorded with the bundle. Default `evidence.snapshot.created`. */
  eventKind?: string;
  /** The case as the caller holds it already (`holdingCase`); without it, the commit holds the case itself. */
  hold?: CaseHold;
}

export interface BundleDescription {
  bundle: BundleRow;
  manifest: EvidenceManifest;
  /** Base64 of manifest.sig. */
  signature: string;
  verification: BundleVerification;
  hold: HoldRow | undefined;
}

function storageError(error: unknown): unknown {
  if (error instanceof BlobError) {
    if (error.code === 'blob.exists') return new ServiceError('evidence.exists', error.message, { cause: error });
    if (error.code === 'blob.key_invalid') return new ServiceError('evidence.id_invalid', error.message, { cause: error });
    if (error.code === 'blob.not_found') return new ServiceError('evidence.not_found', error.message, { cause: error });
    return new ServiceError('evidence.storage_unavailable', 'the evidence store is unavailable; retry shortly', { cause: error });
  }
  if (error instanceof KeyManagerError) return new ServiceError('evidence.keys_unavailable', 'the signing key is unavailable; see the service log', { cause: error });
  return error;
}

/** The `evidence.timestamp_failed` answer in `error`'s cause chain, if the timestamper failed. */
function timestampFailure(error: unknown): ServiceError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof ServiceError && current.code === 'evidence.timestamp_failed') return current;
    current = current.cause;
  }
  return undefined;
}

/** Why a bundle may not be deleted now: the answer's code, the retention keep reason, and the words. */
export interface DeletionRefusal {
  code: 'evidence.on_hold' | 'evidence.retained';
  keep: Extract<KeepReason, 'legal_hold' | 'incident' | 'object_lock'>;
  reason: string;
}

/** A refused deletion: 409 `evidence.on_hold` / `evidence.retained`, with the keep reason for the pruning job. */
export class DeletionRefusedError extends ServiceError {
  constructor(
    readonly refusal: DeletionRefusal,
    bundleId: string,
  ) {
    super(refusal.code, refusal.reason, { extra: { bundle_id: bundleId } });
  }
}

export class EvidenceLocker {
  private readonly objects: ObjectStore;
  private readonly keys: KeyManager;
  private readonly repository: EvidenceRepository;
  private readonly clock: () => number;

  private readonly caseLocks: CaseLocks;

  constructor(private readonly options: EvidenceLockerOptions) {
    this.objects = options.objects;
    this.keys = options.keys;
    this.repository = options.repository;
    this.clock = options.clock ?? Date.now;
    this.caseLocks = options.caseLocks ?? new LocalCaseLocks();
  }

  /**
   * Runs `fn` holding the case: no other commit of the case, through any replica, runs meanwhile.
   * Refuses with `evidence.snapshot_in_progress` when another holds it now.
   */
  async holdingCase<T>(tenant: string, caseId: string, fn: (hold: CaseHold) => Promise<T>): Promise<T> {
    if (!isValidSegment(caseId)) {
      throw new ServiceError('evidence.id_invalid', 'case_id must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit', { field: 'body.case_id' });
    }
    let release: CaseRelease | undefined;
    try {
      release = await this.caseLocks.tryHold(tenant, caseId);
    } catch (error) {
      throw storageError(error);
    }
    if (!release) {
      throw new ServiceError('evidence.snapshot_in_progress', `a bundle of case "${caseId}" is being made now; list the case's bundles once it is done`, { field: 'body.case_id' });
    }
    try {
      return await fn({ tenant, caseId });
    } finally {
      await release();
    }
  }

  /** Builds, signs and commits a bundle holding its case; returns its recorded row. */
  async commit(tenant: string, request: CommitRequest): Promise<BundleRow> {
    const held = request.hold;
    if (!held || held.tenant !== tenant || held.caseId !== request.caseId) return this.holdingCase(tenant, request.caseId, (hold) => this.commit(tenant, { ...request, hold }));
    try {
      const row = await this.commitBundle(tenant, request);
      this.options.commits?.add(1, { kind: request.kind, outcome: 'success' });
      return row;
    } catch (error) {
      this.options.commits?.add(1, { kind: request.kind, outcome: 'failure' });
      throw error;
    }
  }

  private async commitBundle(tenant: string, request: CommitRequest): Promise<BundleRow> {
    if (!isValidSegment(request.caseId)) {
      throw new ServiceError('evidence.id_invalid', 'case_id must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit', { field: 'body.case_id' });
    }
    const bundleId = uuidv7();
    const prefix = evidencePrefix(tenant, request.caseId, bundleId);
    const createdAt = new Date(this.clock());
    let active;
    try {
      active = await this.keys.activeKey(tenant, createdAt);
    } catch (error) {
      throw storageError(error);
    }
    const settings = await this.repository.settings(tenant);
    const retainUntil = new Date(createdAt.getTime() + settings.retention_days * DAY_MS);
    const hold = await this.repository.activeHold(tenant, request.caseId);

    const work = await mkdtemp(join(tmpdir(), 'stella-bundle-'));
    try {
      const dir = join(work, 'bundle');
      let built;
      try {
        built = await buildEvidenceBundle({
          kind: request.kind,
          tenant,
          caseId: request.caseId,
          resourceId: request.resourceId,
          bundleId,
          createdAt,
          signer: active.signer,
          files: request.files,
          ...(request.metadata ? { metadata: request.metadata } : {}),
          ...(this.options.timestamper ? { timestamper: this.timestamper(this.options.timestamper) } : {}),
          output: { directory: dir },
        });
      } catch (error) {
        // The timestamper's own failure, even wrapped by the builder (as its cause).
        const stamping = timestampFailure(error);
        if (stamping) throw stamping;
        // The token the timestamper returned is checked by the bundle builder.
        if (error instanceof ForensicsError && error.code === 'invalid_timestamp') {
          throw new ServiceError('evidence.timestamp_failed', `the timestamp authority's answer was unusable: ${error.message}`, { cause: error });
        }
        throw error;
      }
      const objects = await readTree(dir);
      await this.repository.beginCommit(tenant, bundleId, request.caseId, prefix);
      try {
        await this.objects.commit(prefix, objects, {
          retainUntil,
          mode: this.options.lockMode ?? 'COMPLIANCE',
          legalHold: hold !== undefined,
        });
      } catch (error) {
        // Nothing visible was written (fs) or nothing will ever be recorded (s3): close the journal entry.
        await this.repository.abandonCommit(tenant, bundleId).catch(() => undefined);
        throw storageError(error);
      }
      const row: BundleRow = {
        id: bundleId,
        tenant_id: tenant,
        case_id: request.caseId,
        kind: request.kind,
        root_hash: built.root,
        path: prefix,
        signer_key_id: active.signer.keyId,
        created_at: createdAt.toISOString(),
        labels: { resource_type: request.resourceType, resource_id: request.resourceId, ...request.labels },
        resource_type: request.resourceType,
        resource_id: request.resourceId,
        manifest_digest: built.manifestDigest,
        file_count: built.manifest.files.length,
        content_bytes: built.contentBytes,
        retain_until: retainUntil.toISOString(),
        timestamped: built.timestamp !== undefined,
      };
      await this.options.audit.record(tenant, async (tx, audit) => {
        await this.repository.recordBundle(tx, row);
        await audit({
          kind: request.eventKind ?? 'evidence.snapshot.created',
          resource_type: 'evidence_bundle',
          resource_id: bundleId,
          details: {
            case_id: request.caseId,
            kind: request.kind,
            root_hash: built.root,
            manifest_digest: built.manifestDigest,
            signer_key_id: active.signer.keyId,
            subject: { resource_type: request.resourceType, resource_id: request.resourceId },
            path: prefix,
            on_hold: hold !== undefined,
          },
        });
      });
      return row;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * The timestamper as the bundle builder calls it: whatever it throws is the timestamp
   * authority's failure (`evidence.timestamp_failed`), told apart by where it was thrown, never
   * by its text.
   */
  private timestamper(stamp: (data: Uint8Array) => Promise<Uint8Array>): (data: Uint8Array) => Promise<Uint8Array> {
    return async (data) => {
      try {
        return await stamp(data);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        const unusable = error instanceof ForensicsError && error.code === 'invalid_timestamp';
        throw new ServiceError('evidence.timestamp_failed', unusable ? `the timestamp authority's answer was unusable: ${detail}` : `the timestamp authority could not be reached: ${detail}`, { cause: error });
      }
    };
  }

  async get(tenant: string, bundleId: string): Promise<BundleRow> {
    if (!isValidSegment(bundleId)) throw new ServiceError('evidence.id_invalid', 'bundle id is malformed', { field: 'params.bundle_id' });
    const row = await this.repository.getBundle(tenant, bundleId);
    // Another tenant's bundle and a missing one look the same.
    if (!row) throw new ServiceError('evidence.not_found', `no evidence bundle ${bundleId} in this tenant`, { field: 'params.bundle_id' });
    return row;
  }

  private async entries(row: BundleRow): Promise<ArchiveEntry[]> {
    try {
      const objects = await this.objects.list(row.path);
      if (objects.length === 0) throw new BlobError('blob.not_found', `the objects of bundle ${row.id} are missing`);
      return objects.map((o) => ({ path: o.key.slice(row.path.length), size: o.size, open: () => this.objects.get(o.key) }));
    } catch (error) {
      throw storageError(error);
    }
  }

  /** The deterministic tar of a stored bundle, with its length. */
  async archive(tenant: string, bundleId: string): Promise<{ row: BundleRow; stream: Readable; size: number }> {
    const row = await this.get(tenant, bundleId);
    const entries = await this.entries(row);
    return { row, stream: bundleArchive(entries, row.created_at), size: archiveSize(entries) };
  }

  /**
   * One file of a stored bundle, by its path as the manifest lists it (relative to `files/`),
   * served only once checked: the manifest's file list must give the Merkle root recorded at
   * commit (so it is the manifest that was signed and committed), and the file's size and
   * SHA-256 must be the manifest's. Anything else is `evidence.integrity_failed`, and the bytes
   * are never returned. A path the manifest does not list is `evidence.file_not_found`; a file
   * over MAX_FILE_READ_BYTES is `evidence.file_too_large` (the archive has it). The file is read
   * once, hashed as it streams in, and never beyond the size the manifest gives.
   */
  async readFile(tenant: string, bundleId: string, path: string): Promise<{ row: BundleRow; file: ManifestFile; body: Buffer }> {
    const row = await this.get(tenant, bundleId);
    const altered = (why: string, cause?: unknown): ServiceError =>
      new ServiceError('evidence.integrity_failed', `bundle ${row.id} fails verification: ${why}; its files are not served (GET /evidence/${row.id} reports the verification)`, {
        field: 'params.*',
        cause,
      });
    let manifest: EvidenceManifest;
    try {
      manifest = parseManifest(await this.objects.read(`${row.path}manifest.json`));
    } catch (error) {
      if (error instanceof ForensicsError) throw altered('its manifest.json is not a valid manifest', error);
      if (error instanceof BlobError && error.code === 'blob.not_found') throw altered('its manifest.json is missing', error);
      throw storageError(error);
    }
    const root = merkleRoot(manifest.files.map(manifestLeafHash)).toString('hex');
    if (root !== row.root_hash || manifest.tenant !== tenant) throw altered(`its manifest does not give the root recorded at commit (${row.root_hash})`);
    const file = manifest.files.find((f) => f.path === path);
    if (!file) {
      throw new ServiceError('evidence.file_not_found', `bundle ${row.id} lists no file "${path.slice(0, 256)}"; GET /evidence/${row.id} lists its files`, { field: 'params.*' });
    }
    if (file.size > MAX_FILE_READ_BYTES) {
      throw new ServiceError('evidence.file_too_large', `${file.path} is ${file.size} bytes, more than the ${MAX_FILE_READ_BYTES} served as one file; download the bundle archive (GET /evidence/${row.id}/archive) instead`, {
        field: 'params.*',
        extra: { allowed: { max_bytes: MAX_FILE_READ_BYTES } },
      });
    }
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of await this.objects.get(`${row.path}${CONTENT_PREFIX}${file.path}`)) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        size += bytes.length;
        // Longer than signed: altered, whatever the rest holds; nothing more is read.
        if (size > file.size) throw altered(`${file.path} is longer than the ${file.size} bytes the signed manifest records`);
        hash.update(bytes);
        chunks.push(bytes);
      }
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      if (error instanceof BlobError && error.code === 'blob.not_found') throw altered(`${file.path} is missing from the object store`, error);
      throw storageError(error);
    }
    const digest = hash.digest('hex');
    if (size !== file.size || digest !== file.sha256) {
      throw altered(`${file.path} does not match the signed manifest (${file.size} bytes, sha256:${file.sha256}; stored: ${size} bytes, sha256:${digest})`);
    }
    return { row, file, body: Buffer.concat(chunks, size) };
  }

  /** Verifies a tar stream against the tenant's key ring. */
  async verifyStream(tenant: string, source: AsyncIterable<Uint8Array>): Promise<BundleVerification> {
    const { keyring } = await this.keys.document(tenant).catch((error: unknown) => {
      throw storageError(error);
    });
    return verifyBundleStream(source, { keyring, ...(this.options.tsaTrustAnchors ? { tsaTrustAnchors: this.options.tsaTrustAnchors } : {}) });
  }

  /** Verifies a stored bundle as a client would: its archive, against the key ring, and against the recorded root. */
  async verifyStored(tenant: string, bundleId: string): Promise<{ row: BundleRow; verification: BundleVerification }> {
    const { row, stream } = await this.archive(tenant, bundleId);
    const verification = await this.verifyStream(tenant, stream);
    const failures = [...verification.failures];
    if (verification.manifest && verification.manifest.merkle.root !== row.root_hash) {
      failures.push({ code: 'merkle_root_mismatch', message: `the stored bundle's root ${verification.manifest.merkle.root} differs from the root recorded at commit (${row.root_hash})`, path: 'manifest.json' });
    }
    if (verification.manifest && verification.manifest.tenant !== tenant) {
      failures.push({ code: 'manifest_invalid', message: 'the manifest names another tenant', path: 'manifest.json' });
    }
    return { row, verification: { ...verification, ok: failures.length === 0, failures } };
  }

  async describe(tenant: string, bundleId: string): Promise<BundleDescription> {
    const { row, verification } = await this.verifyStored(tenant, bundleId);
    let manifestBytes: Buffer;
    let signature: Buffer;
    try {
      manifestBytes = await this.objects.read(`${row.path}manifest.json`);
      signature = await this.objects.read(`${row.path}manifest.sig`);
    } catch (error) {
      throw storageError(error);
    }
    return {
      bundle: row,
      manifest: parseManifest(manifestBytes),
      signature: signature.toString('ascii').trim(),
      verification,
      hold: await this.repository.activeHold(tenant, row.case_id),
    };
  }

  /** Why `row` may not be deleted at `now`, or undefined when it may. */
  async deletionRefusal(tenant: string, row: BundleRow, now: Date): Promise<DeletionRefusal | undefined> {
    const hold = await this.repository.activeHold(tenant, row.case_id);
    if (hold) return { code: 'evidence.on_hold', keep: 'legal_hold', reason: `case ${row.case_id} is under legal hold since ${hold.placed_at}: ${hold.reason}` };
    const incident = await this.repository.incidentHoldCovering(tenant, new Date(row.created_at));
    if (incident) return { code: 'evidence.retained', keep: 'incident', reason: `retention is extended by incident mode (${incident.hold_id}: ${incident.reason})` };
    const settings = await this.repository.settings(tenant);
    if (settings.extended_until && new Date(settings.extended_until).getTime() > now.getTime()) {
      return { code: 'evidence.retained', keep: 'incident', reason: `evidence retention is extended (incident mode) until ${settings.extended_until}` };
    }
    const expires = new Date(row.created_at).getTime() + settings.retention_days * DAY_MS;
    const lockedUntil = row.retain_until ? new Date(row.retain_until).getTime() : 0;
    const until = Math.max(expires, lockedUntil);
    if (until > now.getTime()) return { code: 'evidence.retained', keep: 'object_lock', reason: `the bundle is retained until ${new Date(until).toISOString()}` };
    return undefined;
  }

  /**
   * Deletes a bundle unless held or retained; a refusal is audited (`audit.evidence.deletion_refused`,
   * unless `auditRefusal: false`: the pruning job summarises its refusals) and thrown, a deletion
   * is audited (`audit.evidence.deleted`) with the row's removal.
   */
  async delete(tenant: string, bundleId: string, by: { actor: string; via: 'api' | 'retention'; auditRefusal?: boolean }): Promise<void> {
    const row = await this.get(tenant, bundleId);
    const now = new Date(this.clock());
    let refusal = await this.deletionRefusal(tenant, row, now);
    if (!refusal) {
      try {
        await this.objects.deletePrefix(row.path, now);
      } catch (error) {
        if (!(error instanceof BlobError) || error.code !== 'blob.locked') throw storageError(error);
        // The object store's own lock (S3 Object Lock, the fs lock file) has the last word.
        refusal = { code: 'evidence.retained', keep: 'object_lock', reason: `the object store refused: ${error.message}` };
      }
    }
    if (refusal && by.auditRefusal === false) {
      // The caller audits refusals itself (the pruning job: one summary event per pass).
      throw new DeletionRefusedError(refusal, row.id);
    }
    if (refusal) {
      await this.options.audit.event(tenant, {
        kind: 'audit.evidence.deletion_refused',
        resource_type: 'evidence_bundle',
        resource_id: row.id,
        details: { case_id: row.case_id, via: by.via, reason: refusal.reason, refused_code: refusal.code },
      });
      throw new DeletionRefusedError(refusal, row.id);
    }
    await this.options.audit.record(tenant, async (tx, audit) => {
      // Gone already (a concurrent delete): that one was audited.
      if (!(await this.repository.deleteBundle(tx, tenant, row.id))) return;
      await audit({
        kind: 'audit.evidence.deleted',
        resource_type: 'evidence_bundle',
        resource_id: row.id,
        details: { case_id: row.case_id, via: by.via, root_hash: row.root_hash, created_at: row.created_at },
      });
    });
  }

  /** Places or releases the legal hold on a case: the row, every bundle's object lock, and the audit event. */
  async setHold(tenant: string, caseId: string, action: 'place' | 'release', reason: string, actor: string): Promise<{ held: boolean; bundles: number; event: TimelineEvent }> {
    if (!isValidSegment(caseId)) throw new ServiceError('evidence.id_invalid', 'case id is malformed', { field: 'params.case_id' });
    const bundles = await this.repository.listBundles(tenant, { case_id: caseId, limit: 100_000 });
    const place = action === 'place';
    // Object locks first: a hold recorded but not applied would be worse than the reverse,
    // and a placed lock with a failed row is simply placed again on retry.
    try {
      if (place) for (const b of bundles) await this.objects.setLegalHold(b.path, true);
    } catch (error) {
      throw storageError(error);
    }
    const event = await this.options.audit.record(tenant, async (tx, audit) => {
      const prev = await this.repository.setHold(tx, tenant, caseId, place ? { reason, by: actor } : null);
      return audit({
        kind: place ? 'audit.evidence.hold_placed' : 'audit.evidence.hold_released',
        resource_type: 'evidence_case',
        resource_id: caseId,
        details: { reason, bundles: bundles.length, previously_held: prev !== undefined, ...(prev && !place ? { placed_at: prev.placed_at, placed_by: prev.placed_by } : {}) },
      });
    });
    try {
      if (!place) for (const b of bundles) await this.objects.setLegalHold(b.path, false);
    } catch (error) {
      throw storageError(error);
    }
    return { held: place, bundles: bundles.length, event };
  }

  /** All bundles of a case (for the hold response and listings). */
  caseBundles(tenant: string, caseId: string): Promise<BundleRow[]> {
    return this.repository.listBundles(tenant, { case_id: caseId, limit: 1000 });
  }

  /** Settles commits interrupted by a crash (see the file comment). */
  async recover(): Promise<{ recorded: number; removed: number; staging: number }> {
    const report = await this.objects.recover();
    let recorded = 0;
    let removed = 0;
    for (const tenant of await this.repository.tenants()) {
      for (const pending of await this.repository.pendingCommits(tenant)) {
        // A case held now is being committed by a running replica: its journal rows are not interrupted.
        const release = await this.caseLocks.tryHold(tenant, pending.case_id);
        if (!release) continue;
        try {
          // It may have finished between the listing and the hold.
          if (!(await this.repository.pendingCommits(tenant)).some((p) => p.bundle_id === pending.bundle_id)) continue;
          if (await this.settle(tenant, pending)) recorded++;
          else removed++;
        } finally {
          await release();
        }
      }
    }
    return { recorded, removed, staging: report.removedStaging };
  }

  /** Records an interrupted commit whose objects are complete and verify (true), or rolls it back (false). */
  private async settle(tenant: string, pending: { bundle_id: string; case_id: string; path: string }): Promise<boolean> {
    const complete = await this.objects.exists(pending.path).catch(() => false);
    if (complete && (await this.adopt(tenant, pending))) return true;
    if (complete) await this.objects.deletePrefix(pending.path, new Date(8.64e15)).catch(() => undefined);
    await this.repository.abandonCommit(tenant, pending.bundle_id);
    this.options.logger.warn({ tenant_id: tenant, details: { bundle_id: pending.bundle_id } }, 'an interrupted evidence commit was rolled back');
    return false;
  }

  /** Records a bundle whose objects were committed before the process died, if it verifies. */
  private async adopt(tenant: string, pending: { bundle_id: string; case_id: string; path: string }): Promise<boolean> {
    try {
      const manifest = parseManifest(await this.objects.read(`${pending.path}manifest.json`));
      const entries = await this.objects.list(pending.path);
      const archive = bundleArchive(
        entries.map((o) => ({ path: o.key.slice(pending.path.length), size: o.size, open: () => this.objects.get(o.key) })),
        manifest.createdAt,
      );
      const v = await this.verifyStream(tenant, archive);
      if (!v.ok || manifest.tenant !== tenant || manifest.bundleId !== pending.bundle_id) return false;
      const settings = await this.repository.settings(tenant);
      const resourceType = (manifest.metadata?.['resource_type'] as string | undefined) ?? null;
      const row: BundleRow = {
        id: pending.bundle_id,
        tenant_id: tenant,
        case_id: pending.case_id,
        kind: manifest.kind,
        root_hash: manifest.merkle.root,
        path: pending.path,
        signer_key_id: manifest.signer.keyId,
        created_at: manifest.createdAt,
        labels: { resource_type: resourceType, resource_id: manifest.resourceId, recovered: true },
        resource_type: resourceType,
        resource_id: manifest.resourceId,
        manifest_digest: v.manifestDigest ?? null,
        file_count: v.fileCount,
        content_bytes: v.contentBytes,
        retain_until: new Date(new Date(manifest.createdAt).getTime() + settings.retention_days * DAY_MS).toISOString(),
        timestamped: v.timestamp !== undefined,
      };
      await this.options.audit.record(tenant, async (tx, audit) => {
        await this.repository.recordBundle(tx, row);
        await audit({
          kind: 'evidence.snapshot.created',
          resource_type: 'evidence_bundle',
          resource_id: row.id,
          actor: 'stella-observability/recovery',
          details: { case_id: row.case_id, kind: row.kind, root_hash: row.root_hash, manifest_digest: row.manifest_digest, signer_key_id: row.signer_key_id, recovered: true, path: row.path },
        });
      });
      return true;
    } catch (error) {
      this.options.logger.warn({ err: error, tenant_id: tenant, details: { bundle_id: pending.bundle_id } }, 'an interrupted evidence commit could not be recorded');
      return false;
    }
  }

  /** Prefix of a case (for listings by the CLI). */
  static casePrefix(tenant: string, caseId: string): string {
    return caseEvidencePrefix(tenant, caseId);
  }
}

/** Every file under `dir` as objects keyed by their "/"-separated relative path. */
async function readTree(dir: string): Promise<{ path: string; body: Buffer }[]> {
  const out: { path: string; body: Buffer }[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) await walk(abs);
      else out.push({ path: relative(dir, abs).split(sep).join('/'), body: await readFile(abs) });
    }
  };
  await walk(dir);
  return out;
}

export function newArtifactId(): string {
  return randomUUID();
}
