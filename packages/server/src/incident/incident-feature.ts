/**
 * Incident mode (INC-1, INC-2, INC-4): the operators' API and the auto-revert job over the
 * service's incident controller (a part: SLO breaches switch it too). The modes live in the
 * store, so every replica answers `GET /telemetry/incidents/mode` alike; over NATS each replica
 * also follows the broadcasts under a consumer of its own, so its `telemetry_incident_mode`
 * gauge follows a change made through any replica (and the TTL job's expiries on the leader).
 */
import { BusIncidentModeSource } from '@stellaops/telemetry-core';
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
  create({ config, incidents: controller, bus, audit, logger, leadership, telemetry }) {
    // The Orchestrator's requests over the bus (INC-3).
    const requests = new IncidentRequestConsumer({ bus, controller, audit, config, logger });
    // The TTL check runs with the segment seal job's cadence (default every minute).
    const ttl = new IncidentTtlJob(controller, logger, config.segmentSealIntervalMs, leadership);
    // The embedded bus serves one process, whose controller set the gauge itself.
    let follower: BusIncidentModeSource | undefined;
    const runtime: IncidentRuntime = {
      controller,
      ttl,
      requests,
      routes: (app) => incidentRoutes(app, { config, controller }),
      start: async () => {
        if (bus.kind === 'nats-jetstream') {
          follower = new BusIncidentModeSource({
            bus,
            subjectPrefix: config.subjectPrefix,
            // One consumer per replica, resumed by its restarts (not one more per process start).
            ...(telemetry.segments.replica ? { durable: `stella-incident-mode-${telemetry.segments.replica}` } : {}),
            onError: (error, message) => logger.warn({ err: error, details: { subject: message.subject } }, 'incident mode message skipped: malformed'),
          });
          const seen = new Set<string>();
          follower.subscribe((modes) => {
            const active = new Map<string, number>();
            for (const m of modes) if (m.tenant !== null) active.set(m.tenant, (active.get(m.tenant) ?? 0) + 1);
            for (const tenant of new Set([...seen, ...active.keys()])) controller.applyBroadcast(tenant, active.get(tenant) ?? 0);
            for (const tenant of active.keys()) seen.add(tenant);
          });
          await follower.ready();
        }
        await controller.refreshAll();
        ttl.start();
        await requests.start();
      },
      stop: async () => {
        await follower?.close();
        await requests.stop();
        await ttl.stop();
        await controller.settled();
      },
    };
    return runtime;
  },
};
