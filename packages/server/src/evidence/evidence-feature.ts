/**
 * The evidence locker as a feature (EVI-1..7): snapshots, the bundle API, the decision recorder,
 * pruning by the retention policy, and recovery of commits a crash interrupted. The locker, its
 * object store and keys are parts of the service (service-parts.ts).
 */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import type { ForensicsParts } from '../service-parts.js';
import { DecisionRecorder } from './decision-recorder.js';
import { evidenceRoutes } from './evidence-routes.js';
import { PruningJob } from './pruning-job.js';
import { SnapshotService } from './snapshot-service.js';
import { TimelineRepository } from '../timeline/timeline-repository.js';

export interface EvidenceRuntime extends FeatureRuntime, ForensicsParts {
  snapshots: SnapshotService;
  pruning: PruningJob;
  decisions: DecisionRecorder;
  /** What start-up recovery found. */
  recovery: Promise<{ recorded: number; removed: number; staging: number }> | undefined;
}

export const evidenceFeature: ServiceFeature = {
  name: 'evidence',
  async create({ config, store, forensics, audit, logger, clock, leadership }) {
    const { locker, repository, objects, keys, settings } = forensics;
    // The platform key exists from the first start on (EVI-3), not from the first snapshot.
    await keys.keyring({ kind: 'platform' });
    const snapshots = new SnapshotService({ locker, repository, objects, timeline: new TimelineRepository(store, config.timelineRetentionDays) });
    const pruning = new PruningJob({ locker, repository, audit, logger, intervalMs: settings.pruneIntervalMs, clock, leadership });
    const decisions = new DecisionRecorder({ repository, logger });
    const runtime: EvidenceRuntime = {
      ...forensics,
      snapshots,
      pruning,
      decisions,
      recovery: undefined,
      routes: (app) => evidenceRoutes(app, { locker, repository, snapshots, audit }),
      start: async () => {
        runtime.recovery = locker.recover();
        const report = await runtime.recovery;
        if (report.recorded || report.removed || report.staging) logger.warn({ details: report }, 'evidence locker recovered interrupted commits');
        decisions.start();
        pruning.start();
      },
      stop: async () => {
        await pruning.stop();
        await decisions.stop();
      },
    };
    return runtime;
  },
};
