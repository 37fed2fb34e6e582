/**
 * The embedded telemetry store as a feature: its index tables (migrations 0200+), the hourly
 * seal and retention job with the tenant's retention tiers (`GET|PUT /telemetry/retention`),
 * and an orderly shutdown (flush the index, sync and close segments).
 */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { retentionDefaults } from '../retention/policy.js';
import { telemetryRetentionRoutes } from '../retention/telemetry-retention-routes.js';
import { TelemetryRetentionSettings } from '../retention/telemetry-settings.js';
import { TelemetryRetentionJob } from './telemetry-retention-job.js';
import { telemetryStoreFor, type TelemetryStore } from './telemetry-store.js';

export interface SegmentsRuntime extends FeatureRuntime {
  telemetry: TelemetryStore;
  retention: TelemetryRetentionJob;
  retentionSettings: TelemetryRetentionSettings;
}

export const segmentsFeature: ServiceFeature = {
  name: 'segments',
  migrations: { name: 'telemetry-store', dir: new URL('./migrations/', import.meta.url) },
  create(ctx) {
    const telemetry = telemetryStoreFor(ctx);
    const retentionSettings = new TelemetryRetentionSettings(ctx.store, retentionDefaults(ctx.config).signals);
    const retention = new TelemetryRetentionJob({
      telemetry,
      store: ctx.store,
      settings: retentionSettings,
      emitter: ctx.emitter,
      logger: ctx.logger,
      clock: ctx.clock,
      intervalMs: ctx.config.segmentSealIntervalMs,
    });
    const runtime: SegmentsRuntime = {
      telemetry,
      retention,
      retentionSettings,
      routes: (app) => telemetryRetentionRoutes(app, { settings: retentionSettings, emitter: ctx.emitter }),
      start: async () => {
        // Records that were acknowledged but not yet indexed when the process stopped (a crash) are indexed from the segments first.
        await telemetry.index.recover();
        retention.start();
      },
      stop: async () => {
        await retention.stop();
        await telemetry.index.stop();
        telemetry.segments.close();
      },
    };
    return runtime;
  },
};
