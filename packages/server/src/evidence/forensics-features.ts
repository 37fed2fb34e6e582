/**
 * The evidence locker, signing keys, attestations and chain of custody as three service
 * features sharing one set of parts (object store, key manager, locker), built once per
 * service instance from its store and settings.
 */
import { createHttpTimestamper } from '@stellaops/forensics';
import { AttestationService } from '../attest/attestation-service.js';
import { attestRoutes } from '../attest/attest-routes.js';
import { openObjectStore } from '../blob/open-object-store.js';
import type { ObjectStore } from '../blob/object-store.js';
import { custodyRoutes } from '../custody/custody-routes.js';
import { CustodyService } from '../custody/custody-service.js';
import { KeyManager } from '../keys/key-manager.js';
import { keysRoutes } from '../keys/keys-routes.js';
import { FileSignerBackend, type SignerBackend } from '../keys/signer-backend.js';
import type { FeatureContext, FeatureRuntime, ServiceFeature } from '../service-feature.js';
import type { SqlStore } from '../store/sql-store.js';
import { DecisionRecorder } from './decision-recorder.js';
import { EvidenceLocker } from './evidence-locker.js';
import { EvidenceRepository } from './evidence-repository.js';
import { evidenceRoutes } from './evidence-routes.js';
import { resolveForensicsSettings, type ForensicsSettings } from './forensics-settings.js';
import { PruningJob } from './pruning-job.js';
import { SnapshotService } from './snapshot-service.js';

export interface ForensicsFeatureOptions {
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

export interface ForensicsParts {
  settings: ForensicsSettings;
  objects: ObjectStore;
  keys: KeyManager;
  locker: EvidenceLocker;
  snapshots: SnapshotService;
  attestations: AttestationService;
  custody: CustodyService;
  pruning: PruningJob;
  decisions: DecisionRecorder;
}

export interface EvidenceRuntime extends FeatureRuntime, ForensicsParts {
  /** What start-up recovery found. */
  recovery: Promise<{ recorded: number; removed: number; staging: number }> | undefined;
}

export function forensicsFeatures(options: ForensicsFeatureOptions = {}): ServiceFeature[] {
  const parts = new WeakMap<SqlStore, ForensicsParts>();
  const partsFor = (ctx: FeatureContext): ForensicsParts => {
    let p = parts.get(ctx.store);
    if (p) return p;
    const settings = { ...resolveForensicsSettings(ctx.config, options.env ?? process.env), ...options.settings };
    const objects = options.objectStore ?? openObjectStore(settings.objectStore, ctx.config.dataDir);
    const keys = new KeyManager({
      dir: settings.keysDir,
      backend: options.signerBackend ?? new FileSignerBackend({ root: settings.keysDir }),
      tenantKeys: settings.tenantKeys,
      clock: ctx.clock,
    });
    const repository = new EvidenceRepository(ctx.store, settings.retentionDays);
    const timestamper = options.timestamper ?? (settings.tsaUrl ? createHttpTimestamper(settings.tsaUrl) : undefined);
    const locker = new EvidenceLocker({
      repository,
      objects,
      keys,
      emitter: ctx.emitter,
      logger: ctx.logger,
      clock: ctx.clock,
      lockMode: settings.lockMode,
      ...(timestamper ? { timestamper } : {}),
      ...(settings.tsaTrustAnchors.length ? { tsaTrustAnchors: settings.tsaTrustAnchors } : {}),
    });
    const attestations = new AttestationService(locker, ctx.clock);
    p = {
      settings,
      objects,
      keys,
      locker,
      snapshots: new SnapshotService(locker),
      attestations,
      custody: new CustodyService(locker, attestations),
      pruning: new PruningJob({ locker, emitter: ctx.emitter, logger: ctx.logger, intervalMs: settings.pruneIntervalMs, clock: ctx.clock }),
      decisions: new DecisionRecorder({ repository, logger: ctx.logger }),
    };
    parts.set(ctx.store, p);
    return p;
  };

  const evidence: ServiceFeature = {
    name: 'evidence',
    migrations: { name: 'evidence', dir: new URL('./migrations/', import.meta.url) },
    async create(ctx) {
      const p = partsFor(ctx);
      // The platform key exists from the first start on (EVI-3), not from the first snapshot.
      await p.keys.keyring({ kind: 'platform' });
      const runtime: EvidenceRuntime = {
        ...p,
        recovery: undefined,
        routes: async (app) => {
          await evidenceRoutes(app, { locker: p.locker, snapshots: p.snapshots });
          keysRoutes(app, { keys: p.keys, locker: p.locker, clock: ctx.clock });
        },
        start: async () => {
          runtime.recovery = p.locker.recover();
          const report = await runtime.recovery;
          if (report.recorded || report.removed || report.staging) ctx.logger.warn({ details: report }, 'evidence locker recovered interrupted commits');
          p.decisions.start();
          p.pruning.start();
        },
        stop: async () => {
          await p.pruning.stop();
          await p.decisions.stop();
        },
      };
      return runtime;
    },
  };

  const attest: ServiceFeature = {
    name: 'attest',
    migrations: { name: 'attest', dir: new URL('../attest/migrations/', import.meta.url) },
    create(ctx) {
      const p = partsFor(ctx);
      return { attestations: p.attestations, routes: (app) => attestRoutes(app, { attestations: p.attestations }) } as FeatureRuntime;
    },
  };

  const custody: ServiceFeature = {
    name: 'custody',
    migrations: { name: 'custody', dir: new URL('../custody/migrations/', import.meta.url) },
    create(ctx) {
      const p = partsFor(ctx);
      return { custody: p.custody, routes: (app) => custodyRoutes(app, { custody: p.custody }) } as FeatureRuntime;
    },
  };

  return [evidence, attest, custody];
}
