/**
 * OBS-1 and OBS-2 read APIs: traces, logs, route aggregates and health over the embedded
 * telemetry store, and ingested metrics through the metrics query (the embedded metric index,
 * or Prometheus when `STELLA_PROMETHEUS_URL` is set).
 */
import type { ServiceFeature } from '../service-feature.js';
import { TelemetryReader } from '../segments/telemetry-reader.js';
import { metricsRoutes } from './metrics-routes.js';
import { obsRoutes } from './obs-routes.js';
import { openMetricsQuery } from './open-metrics-query.js';

export const obsFeature: ServiceFeature = {
  name: 'obs',
  create({ config, store, telemetry, clock }) {
    const reader = new TelemetryReader(store, telemetry);
    const metrics = openMetricsQuery(config, store, telemetry);
    return {
      routes: (app) => {
        obsRoutes(app, { config, reader, clock });
        metricsRoutes(app, { config, metrics, clock });
      },
    };
  },
};
