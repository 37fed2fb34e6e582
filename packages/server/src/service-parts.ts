/**
 * The parts of the service, built once by `createService` and handed to the features: the store,
 * the bus, the service's own metrics, the audit trail, the quarantine, the telemetry store
 * (segments and their index) with the OTLP ingest path into it, the evidence locker with its
 * object store and keys, and the forensic capture. Each feature's
 * factory takes what it uses from here; nothing is found through module-level lookups, so the
 * order of the features is only their start order.
 *
 * The parts' own tables are migrated with the core tables (`PART_MIGRATIONS`), whichever
 * features run; their background work (index recovery, flushing, closing segments) is started
 * and stopped by `createService` around the features'.
 */
import { createHttpTimestamper, type Signer } from '@stellaops/forensics';
import { compileScrubPolicy, type Bus, type Logger, type TimelineEmitter } from '@stellaops/telemetry-core';
import type { TokenVerifier } from './auth/token-verifier.js';
import { openObjectStore } from './blob/open-object-store.js';
import type { ObjectStore } from './blob/object-store.js';
import { openCaptureSigner } from './capture/capture-signer.js';
import { ForensicCapture } from './capture/forensic-capture.js';
import type { ServiceConfig } from './config.js';
import { openCaseLocks } from './evidence/case-locks.js';
import { EvidenceLocker } from './evidence/evidence-locker.js';
import { EvidenceRepository } from './evidence/evidence-repository.js';
import { resolveForensicsSettings, type ForensicsSettings } from './evidence/forensics-settings.js';
import { IncidentController } from './incident/incident-controller.js';
import { WebhookNotifier } from './incident/webhook-notifier.js';
import { Quarantine } from './ingest/quarantine.js';
import { KeyManager } from './keys/key-manager.js';
import { FileSignerBackend, type SignerBackend } from './keys/signer-backend.js';
import { openLeadership, type Leadership } from './jobs/leadership.js';
import { OtlpIngestor } from './otlp/otlp-ingest.js';
import { resolveReplicaId } from './segments/replica-id.js';
import { OtlpScrubber } from './otlp/otlp-scrub.js';
import { TenantQuota } from './otlp/tenant-quota.js';
import type { ServiceMetrics } from './self/service-metrics.js';
import { SegmentStore } from './segments/segment-store.js';
import { TelemetryIndex } from './segments/telemetry-index.js';
import type { TelemetryStore } from './segments/telemetry-store.js';
import type { MigrationSource } from './store/migrations.js';
import type { SqlStore } from './store/sql-store.js';
import { AuditTrail } from './timeline/audit-trail.js';

/** Tables of the parts (besides the core ones): the telemetry store's index and the evidence locker's. */
export const PART_MIGRATIONS: readonly MigrationSource[] = [
  { name: 'telemetry-store', dir: new URL('./segments/migrations/', import.meta.url) },
  { name: 'evidence', dir: new URL('./evidence/migrations/', import.meta.url) },
];

/** Overrides of how the evidence parts are built (tests, KMS integrations). */
export interface ForensicsOptions {
  /** Overrides of the settings resolved from the environment. */
  settings?: Partial<ForensicsSettings>;
  /** Environment the settings are resolved from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Object store. Default: from the settings. */
  objectStore?: ObjectStore;
  /** Key management (a KMS). Default: key files under `keysDir`. */
  signerBackend?: SignerBackend;
  /** RFC 3161 stamper. Default: an HTTP client of `tsaUrl` when set. */
  timestamper?: (data: Uint8Array) => Promise<Uint8Array>;
}

/** The evidence locker and what it is built from. */
export interface ForensicsParts {
  settings: ForensicsSettings;
  objects: ObjectStore;
  keys: KeyManager;
  repository: EvidenceRepository;
  locker: EvidenceLocker;
}

/** Forensic captures of the telemetry store, and the key they are signed with. */
export interface CaptureParts {
  capture: ForensicCapture;
  /** The capture signing key (created on first use). */
  signer(): Signer;
}

export interface BaseParts {
  config: ServiceConfig;
  store: SqlStore;
  bus: Bus;
  /** Publishes timeline events on the service's bus. */
  emitter: TimelineEmitter;
  logger: Logger;
  clock: () => number;
  /** Verifies bearer tokens for the API and the OTLP receivers (the development authority's key when no JWKS is configured). */
  verifier: TokenVerifier;
  /** The service's own instruments (self/service-metrics.ts): what a part or feature counts, it counts there. */
  selfMetrics: ServiceMetrics;
}

export interface ServiceParts extends BaseParts {
  /** Events that record a change commit with it, then go to the bus. */
  audit: AuditTrail;
  /** Records that were acknowledged but cannot be stored where they belong (STO-5). */
  quarantine: Quarantine;
  telemetry: TelemetryStore;
  /**
   * The OTLP ingest path into the telemetry store (prepare, quota, append, index): the receivers
   * and the service's own telemetry write through it. Its scrubber has the default policy, as the
   * receivers' prepare workers do.
   */
  otlpIngestor: OtlpIngestor;
  forensics: ForensicsParts;
  capture: CaptureParts;
  /** Incident mode: switched by operators (incident/), by SLO breaches (slo/), expired by the TTL job. */
  incidents: IncidentController;
  /** Whether this replica runs the cluster's periodic jobs (jobs/leadership.ts); every job is handed it. */
  leadership: Leadership;
}

export function buildParts(base: BaseParts, options: { forensics?: ForensicsOptions } = {}): ServiceParts {
  const { config, store, emitter, logger, clock, selfMetrics } = base;
  const audit = new AuditTrail({ store, emitter, logger });
  const quarantine = new Quarantine(store, logger, clock, selfMetrics.quarantined);
  // Replicas may share the segments directory: each writes files named with its own replica id.
  const replica = resolveReplicaId(config.dataDir, config.replicaId);
  const segments = new SegmentStore(config.segmentsDir, logger, { replica });
  logger.info({ details: { replica_id: replica, segments_dir: config.segmentsDir } }, 'telemetry segments: this replica writes its own files in the segments directory');
  const telemetry: TelemetryStore = { segments, index: new TelemetryIndex({ store, segments, quarantine, logger }) };
  const otlpIngestor = new OtlpIngestor({
    segments,
    index: telemetry.index,
    scrubber: new OtlpScrubber(compileScrubPolicy({})),
    quota: new TenantQuota(config.otlpTenantRecordsPerSec, config.otlpTenantBytesPerSec, clock),
    logger,
    clock,
    metrics: { accepted: selfMetrics.receiverAccepted, refused: selfMetrics.receiverRefused },
    // On PostgreSQL other replicas read the index: a record is acknowledged once they can find it.
    indexBeforeAnswer: store.engine === 'postgres',
  });
  selfMetrics.observeQueueDepth('telemetry.index', () => telemetry.index.backlog);

  const f = options.forensics ?? {};
  const settings = { ...resolveForensicsSettings(config, f.env ?? process.env), ...f.settings };
  const objects = f.objectStore ?? openObjectStore(settings.objectStore, config.dataDir);
  const keys = new KeyManager({
    dir: settings.keysDir,
    backend: f.signerBackend ?? new FileSignerBackend({ root: settings.keysDir }),
    tenantKeys: settings.tenantKeys,
    clock,
  });
  const repository = new EvidenceRepository(store, settings.retentionDays);
  // Bundles and captures are stamped by the same TSA (STELLA_EVIDENCE_TSA_URL).
  const timestamper = f.timestamper ?? (settings.tsaUrl ? createHttpTimestamper(settings.tsaUrl) : undefined);
  const locker = new EvidenceLocker({
    repository,
    objects,
    keys,
    audit,
    logger,
    clock,
    lockMode: settings.lockMode,
    commits: selfMetrics.evidenceCommits,
    caseLocks: openCaseLocks({ databaseUrl: config.databaseUrl, logger }),
    ...(timestamper ? { timestamper } : {}),
    ...(settings.tsaTrustAnchors.length ? { tsaTrustAnchors: settings.tsaTrustAnchors } : {}),
  });

  let captureSigner: Signer | undefined;
  const signer = (): Signer => (captureSigner ??= openCaptureSigner(config.dataDir));
  const capture = new ForensicCapture({
    segments,
    signer,
    logger,
    clock,
    metrics: { duration: selfMetrics.bundleDuration, failures: selfMetrics.bundleFailures },
    ...(timestamper ? { timestamper } : {}),
  });

  const webhook =
    config.incidentWebhookUrl && config.incidentWebhookSecret
      ? new WebhookNotifier({
          url: config.incidentWebhookUrl,
          secret: config.incidentWebhookSecret,
          logger,
          maxAttempts: config.incidentWebhookMaxAttempts,
          retryBaseMs: config.incidentWebhookRetryBaseMs,
        })
      : undefined;
  const incidents = new IncidentController({ config, store, bus: base.bus, audit, capture, webhook, logger, clock, modeGauge: selfMetrics.incidentModes });

  return {
    ...base,
    audit,
    quarantine,
    telemetry,
    otlpIngestor,
    forensics: { settings, objects, keys, repository, locker },
    capture: { capture, signer },
    incidents,
    leadership: openLeadership({ databaseUrl: config.databaseUrl, pollMs: config.leaderPollMs, logger }),
  };
}

/** Indexes what was acknowledged but not yet indexed when the process last stopped (a crash), before any receiver listens. */
export async function startParts(parts: ServiceParts): Promise<void> {
  await parts.telemetry.index.recover();
  // Before the features start their jobs: a replica that leads runs them from the start.
  await parts.leadership.start();
}

/** Finishes incident captures and webhook deliveries, flushes the index and syncs and closes the segments, after the features stopped. */
export async function stopParts(parts: ServiceParts): Promise<void> {
  // After the features stopped their jobs: releasing the lock hands the jobs to another replica now.
  await parts.leadership.stop();
  await parts.incidents.settled();
  await parts.telemetry.index.stop();
  parts.telemetry.segments.close();
}
