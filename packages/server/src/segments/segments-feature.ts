/**
 * The embedded telemetry store's jobs and settings: the hourly seal and retention job with the
 * tenant's retention tiers (`GET|PUT /telemetry/retention`). The store itself (segments and
 * index) is a part of the service (service-parts.ts), opened and closed around the features.
 */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { retentionDefaults } from '../retention/policy.js';
import { telemetryRetentionRoutes } from '../retention/telemetry-retention-routes.js';
import { TelemetryRetentionSettings } from './telemetry-retention-settings.js';
import { TelemetryRetentionJob } from './telemetry-retention-job.js';

export interface SegmentsRuntime extends FeatureRuntime {
  retention: TelemetryRetentionJob;
  retentionSettings: TelemetryRetentionSettings;
}

export const segmentsFeature: ServiceFeature = {
  name: 'segments',
  create({ config, store, telemetry, audit, logger, clock, leadership }) {
    const retentionSettings = new TelemetryRetentionSettings(store, retentionDefaults(config).signals);
    const retention = new TelemetryRetentionJob({
      telemetry,
      store,
      settings: retentionSettings,
      audit,
      logger,
      clock,
      intervalMs: config.segmentSealIntervalMs,
      leadership,
    });
    const runtime: SegmentsRuntime = {
      retention,
      retentionSettings,
      routes: (app) => telemetryRetentionRoutes(app, { settings: retentionSettings, audit }),
      start: async () => retention.start(),
      stop: () => retention.stop(),
    };
    return runtime;
  },
};
