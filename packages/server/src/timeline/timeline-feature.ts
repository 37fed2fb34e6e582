/** The timeline feature: repository, indexer, retention job and routes, wired once. */
import { Quarantine } from '../ingest/quarantine.js';
import { retentionDefaults } from '../retention/policy.js';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { RetentionJob } from './retention-job.js';
import { TimelineIndexer } from './timeline-indexer.js';
import { TimelineRepository } from './timeline-repository.js';
import { timelineRoutes } from './timeline-routes.js';

export interface TimelineRuntime extends FeatureRuntime {
  repository: TimelineRepository;
  indexer: TimelineIndexer;
  /** Where events that were acknowledged but cannot be stored are kept (STO-5). */
  quarantine: Quarantine;
  retention: RetentionJob;
}

export const timelineFeature: ServiceFeature = {
  name: 'timeline',
  // The timeline's tables are part of the core migrations (TL-3 ships with the store).
  create(ctx) {
    // The service defaults must sit within the policy's bounds too (a ConfigError stops the start).
    const defaults = retentionDefaults(ctx.config);
    const repository = new TimelineRepository(ctx.store, ctx.config.timelineRetentionDays);
    const quarantine = new Quarantine(ctx.store, ctx.logger, ctx.clock);
    const indexer = new TimelineIndexer({
      bus: ctx.bus,
      repository,
      logger: ctx.logger,
      quarantine,
      durable: ctx.config.indexerDurable,
      subjectPrefix: ctx.config.subjectPrefix,
    });
    const retention = new RetentionJob({
      repository,
      store: ctx.store,
      emitter: ctx.emitter,
      logger: ctx.logger,
      defaultEvidenceDays: defaults.evidenceDays,
      intervalMs: ctx.config.retentionIntervalMs,
      clock: ctx.clock,
    });
    const runtime: TimelineRuntime = {
      repository,
      indexer,
      quarantine,
      retention,
      routes: (app) => timelineRoutes(app, { repository, emitter: ctx.emitter, clock: ctx.clock }),
      start: async () => {
        await indexer.start();
        retention.start();
      },
      stop: async () => {
        await retention.stop();
        await indexer.stop();
      },
    };
    return runtime;
  },
};
