/** The timeline feature: repository, saved filters, indexer, retention job and routes, wired once. */
import type { Quarantine } from '../ingest/quarantine.js';
import { retentionDefaults } from '../retention/policy.js';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { RetentionJob } from './retention-job.js';
import { TimelineIndexer } from './timeline-indexer.js';
import { SavedFilters } from './saved-filters.js';
import { TimelineRepository } from './timeline-repository.js';
import { timelineRoutes } from './timeline-routes.js';

export interface TimelineRuntime extends FeatureRuntime {
  repository: TimelineRepository;
  /** Users' saved `GET /timeline` filters. */
  savedFilters: SavedFilters;
  indexer: TimelineIndexer;
  /** Where events that were acknowledged but cannot be stored are kept (STO-5). */
  quarantine: Quarantine;
  retention: RetentionJob;
}

export const timelineFeature: ServiceFeature = {
  name: 'timeline',
  // `timeline_events` is part of the core migrations (TL-3 ships with the store); the feature's
  // own tables (saved filters) are in its folder.
  migrations: { name: 'timeline', dir: new URL('./migrations/', import.meta.url) },
  create({ config, store, bus, emitter, audit, quarantine, logger, clock, selfMetrics, leadership }) {
    // The service defaults must sit within the policy's bounds too (a ConfigError stops the start).
    const defaults = retentionDefaults(config);
    const repository = new TimelineRepository(store, config.timelineRetentionDays);
    const savedFilters = new SavedFilters(store);
    const indexer = new TimelineIndexer({
      bus,
      repository,
      logger,
      quarantine,
      durable: config.indexerDurable,
      subjectPrefix: config.subjectPrefix,
      lag: selfMetrics.timelineLag,
      clock,
    });
    const retention = new RetentionJob({
      repository,
      store,
      audit,
      logger,
      defaultEvidenceDays: defaults.evidenceDays,
      intervalMs: config.retentionIntervalMs,
      clock,
      leadership,
    });
    const runtime: TimelineRuntime = {
      repository,
      savedFilters,
      indexer,
      quarantine,
      retention,
      routes: (app) => timelineRoutes(app, { repository, savedFilters, emitter, audit, clock }),
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
