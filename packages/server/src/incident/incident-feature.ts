/** Incident mode (INC-1, INC-2, INC-4): the operators' API and the auto-revert job over the service's incident controller (a part: SLO breaches switch it too). */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import type { IncidentController } from './incident-controller.js';
import { incidentRoutes } from './incident-routes.js';
import { IncidentRequestConsumer } from './incident-requests.js';
import { IncidentTtlJob } from './incident-ttl-job.js';

export interface IncidentRuntime extends FeatureRuntime {
  controller: IncidentController;
  ttl: IncidentTtlJob;
  requests: IncidentRequestConsumer;
}

export const incidentFeature: ServiceFeature = {
  name: 'incident',
  migrations: { name: 'incident', dir: new URL('./migrations/', import.meta.url) },
  create({ config, incidents: controller, bus, audit, logger, leadership }) {
    // The Orchestrator's requests over the bus (INC-3).
    const requests = new IncidentRequestConsumer({ bus, controller, audit, config, logger });
    // The TTL check runs with the segment seal job's cadence (default every minute).
    const ttl = new IncidentTtlJob(controller, logger, config.segmentSealIntervalMs, leadership);
    const runtime: IncidentRuntime = {
      controller,
      ttl,
      requests,
      routes: (app) => incidentRoutes(app, { config, controller }),
      start: async () => {
        await controller.refreshAll();
        ttl.start();
        await requests.start();
      },
      stop: async () => {
        await requests.stop();
        await ttl.stop();
        await controller.settled();
      },
    };
    return runtime;
  },
};
