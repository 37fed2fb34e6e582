/**
 * Deep debug (CORE-2, AUTH-4): the operators' API over the deep-debug controller, the TTL job
 * that ends grants by themselves, and the service following the grants itself — its own logs
 * for a granted tenant relax like every other process's. It starts from the grants in the store
 * (so a restart keeps them) and then follows the bus, under a durable name of its own.
 */
import { BusDeepDebugSource, followDeepDebug } from '@stellaops/telemetry-core';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { DeepDebugController } from './deep-debug-controller.js';
import { deepDebugRoutes } from './deep-debug-routes.js';
import { DeepDebugTtlJob } from './deep-debug-ttl-job.js';

export interface DeepDebugRuntime extends FeatureRuntime {
  controller: DeepDebugController;
  ttl: DeepDebugTtlJob;
  /** The service's own follower, once started. */
  source(): BusDeepDebugSource | undefined;
}

export const deepDebugFeature: ServiceFeature = {
  name: 'deep-debug',
  migrations: { name: 'deep-debug', dir: new URL('./migrations/', import.meta.url) },
  create({ config, store, bus, audit, logger, clock, leadership, telemetry }) {
    const controller = new DeepDebugController({ config, store, bus, audit, logger, clock });
    // Expiry runs with the segment seal job's cadence (default every minute), as incident mode's.
    const ttl = new DeepDebugTtlJob(controller, logger, config.segmentSealIntervalMs, leadership);
    let source: BusDeepDebugSource | undefined;
    let unfollow: (() => void) | undefined;
    const runtime: DeepDebugRuntime = {
      controller,
      ttl,
      source: () => source,
      routes: (app) => deepDebugRoutes(app, { controller }),
      start: async () => {
        source = new BusDeepDebugSource({
          bus,
          subjectPrefix: config.subjectPrefix,
          // The embedded bus serves one process per store: one name that a restart resumes, so a
          // killed process leaves no cursor behind to hold back the log's pruning. Over NATS each
          // replica needs every message, so each consumes under a name of its own — its replica id,
          // so its restarts resume one consumer rather than leave one behind each.
          ...(bus.kind === 'in-process'
            ? { durable: 'stella-deep-debug-follower' }
            : telemetry.segments.replica
              ? { durable: `stella-deep-debug-follower-${telemetry.segments.replica}` }
              : {}),
          initial: await controller.activeStates(),
          onError: (error, message) => logger.warn({ err: error, details: { subject: message.subject } }, 'deep-debug message skipped: malformed'),
        });
        unfollow = followDeepDebug(source, {
          onError: (error, state) => logger.warn({ err: error, tenant_id: state.tenant }, 'deep-debug state not applied'),
        });
        await source.ready();
        ttl.start();
      },
      stop: async () => {
        await ttl.stop();
        unfollow?.();
        await source?.close();
      },
    };
    return runtime;
  },
};
