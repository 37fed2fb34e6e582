/**
 * The service evaluates the SLOs (SLO-2, SLO-3, SLO-6, INC-3): the OpenSLO files of
 * `STELLA_SLO_DIR` (default the shipped deploy/slo), read with collector-config's loader, are
 * evaluated for every tenant each `STELLA_SLO_EVALUATION_INTERVAL_MS` from the metrics query
 * (the embedded store, or Prometheus with `STELLA_PROMETHEUS_URL`), served at `GET /obs/slo`;
 * page-level breaches — found here or posted by Alertmanager — publish
 * `stella.<tenant>.slo.breach`, call the breach webhooks and switch incident mode on.
 *
 * Incident mode is switched through the service's incident controller (a part, shared with the
 * incident feature's API and TTL job).
 */
import { loadSlos, SloError, type Slo } from '@stellaops/collector-config';
import type { Logger } from '@stellaops/telemetry-core';
import { ConfigError } from '../config.js';
import type { IncidentController } from '../incident/incident-controller.js';
import { openMetricsQuery } from '../obs/open-metrics-query.js';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { SloBreaches } from './slo-breaches.js';
import { SloEvaluationJob } from './slo-evaluation-job.js';
import { SloEvaluator } from './slo-evaluator.js';
import { sloRoutes } from './slo-routes.js';

export interface SloRuntime extends FeatureRuntime {
  slos: readonly Slo[];
  evaluator: SloEvaluator;
  job: SloEvaluationJob;
  breaches: SloBreaches;
  incidents: IncidentController;
}

/** The SLOs of a file or directory; none (with a warning) when it does not exist; an invalid SLO stops the service. */
async function readSlos(path: string, logger: Logger): Promise<Slo[]> {
  try {
    const slos = await loadSlos(path);
    logger.info({ details: { slo_dir: path, slos: slos.length } }, 'SLOs loaded');
    return slos;
  } catch (error) {
    if (error instanceof SloError && error.code === 'slo.io') {
      logger.warn({ details: { slo_dir: path, reason: error.message } }, 'no SLOs to evaluate: STELLA_SLO_DIR cannot be read');
      return [];
    }
    throw new ConfigError(`STELLA_SLO_DIR ${path}: ${(error as Error).message}`);
  }
}

export const sloFeature: ServiceFeature = {
  name: 'slo',
  migrations: { name: 'slo', dir: new URL('./migrations/', import.meta.url) },
  async create({ config, store, bus, audit, incidents, telemetry, logger, clock, leadership }) {
    const slos = await readSlos(config.sloDir, logger);
    const metrics = openMetricsQuery(config, store, telemetry);
    const evaluator = new SloEvaluator(metrics);
    const breaches = new SloBreaches({ config, store, bus, audit, incidents, logger, clock });
    const job = new SloEvaluationJob({ slos, evaluator, metrics, breaches, store, logger, clock, intervalMs: config.sloEvaluationIntervalMs, leadership });
    const runtime: SloRuntime = {
      slos,
      evaluator,
      job,
      breaches,
      incidents,
      routes: (app) => sloRoutes(app, { config, slos, metrics, evaluator, job, breaches, clock }),
      start: async () => {
        job.start();
        // The leader's first pass runs now rather than one interval after start (a replica that
        // becomes the leader later runs one then); its failures are logged.
        if (job.active) job.runOnce().catch((error: unknown) => logger.error({ err: error }, 'SLO evaluation failed'));
      },
      stop: async () => {
        await job.stop();
        await incidents.settled();
        await breaches.settled();
      },
    };
    return runtime;
  },
};
