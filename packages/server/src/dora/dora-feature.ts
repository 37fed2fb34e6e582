/**
 * DORA delivery metrics (DORA-1..5): deployments and incidents recorded over the API and from
 * the Release Orchestrator's bus messages, the four key metrics with their levels and SLO
 * targets, the executive outcome report, and the `dora_*` metrics on `/metrics`.
 */
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { DoraConsumer } from './dora-consumer.js';
import { DoraGaugeJob } from './dora-gauge-job.js';
import { DoraRepository } from './dora-repository.js';
import { doraRoutes } from './dora-routes.js';
import { DoraService } from './dora-service.js';

export interface DoraRuntime extends FeatureRuntime {
  service: DoraService;
  consumer: DoraConsumer;
  gauges: DoraGaugeJob;
}

export const doraFeature: ServiceFeature = {
  name: 'dora',
  migrations: { name: 'dora', dir: new URL('./migrations/', import.meta.url) },
  create({ config, store, bus, quarantine, selfMetrics, logger, clock, leadership }) {
    const repository = new DoraRepository(store);
    const service = new DoraService({
      repository,
      instruments: selfMetrics.dora,
      targets: {
        leadTimeHours: config.doraLeadTimeTargetHours,
        deploymentFrequencyPerDay: config.doraDeploymentFrequencyTargetPerDay,
        changeFailureRatePercent: config.doraChangeFailureRateTargetPercent,
        mttrHours: config.doraMttrTargetHours,
      },
      gaugeWindowDays: config.doraGaugeWindowDays,
      logger,
      clock,
    });
    const consumer = new DoraConsumer({ bus, service, quarantine, logger, subjectPrefix: config.subjectPrefix });
    const gauges = new DoraGaugeJob(service, repository, logger, config.doraGaugeIntervalMs, leadership);
    const runtime: DoraRuntime = {
      service,
      consumer,
      gauges,
      routes: (app) => doraRoutes(app, { service }),
      start: async () => {
        await consumer.start();
        gauges.start();
        // The gauges are there from the first scrape, not only after the first interval.
        void gauges.runOnce().catch((error: unknown) => logger.warn({ err: error, error_code: 'dora.gauges_failed' }, 'DORA gauges not computed at start; the job tries again'));
      },
      stop: async () => {
        await consumer.stop();
        await gauges.stop();
      },
    };
    return runtime;
  },
};
