/** Incident mode (INC-1, INC-2, INC-4): state in the store, broadcast on the bus, auto-revert job. */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { IncidentController } from './incident-controller.js';
import { incidentRoutes } from './incident-routes.js';
import { IncidentTtlJob } from './incident-ttl-job.js';
import { WebhookNotifier } from './webhook-notifier.js';

export interface IncidentRuntime extends FeatureRuntime {
  controller: IncidentController;
  ttl: IncidentTtlJob;
}

export const incidentFeature: ServiceFeature = {
  name: 'incident',
  migrations: { name: 'incident', dir: new URL('./migrations/', import.meta.url) },
  create({ config, store, bus, audit, capture, logger, clock, selfMetrics }) {
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
    const controller = new IncidentController({
      config,
      store,
      bus,
      audit,
      capture: capture.capture,
      webhook,
      logger,
      clock,
      modeGauge: selfMetrics.incidentModes,
    });
    // The TTL check runs with the segment seal job's cadence (default every minute).
    const ttl = new IncidentTtlJob(controller, logger, config.segmentSealIntervalMs);
    const runtime: IncidentRuntime = {
      controller,
      ttl,
      routes: (app) => incidentRoutes(app, { config, controller }),
      start: async () => {
        await controller.refreshAll();
        ttl.start();
      },
      stop: async () => {
        await ttl.stop();
        await controller.settled();
      },
    };
    return runtime;
  },
};
