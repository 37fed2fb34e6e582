/** Which metrics query the service uses: Prometheus when `STELLA_PROMETHEUS_URL` is set, else the embedded store's metric index. */
import type { ServiceConfig } from '../config.js';
import { MetricReader } from '../segments/metric-reader.js';
import type { TelemetryStore } from '../segments/telemetry-store.js';
import type { SqlStore } from '../store/sql-store.js';
import { EmbeddedMetricsQuery } from './embedded-metrics.js';
import type { MetricsQuery } from './metrics-query.js';
import { PrometheusMetricsQuery } from './prometheus-metrics.js';

export function openMetricsQuery(config: ServiceConfig, store: SqlStore, telemetry: TelemetryStore): MetricsQuery {
  if (config.prometheusUrl) {
    return new PrometheusMetricsQuery({ url: config.prometheusUrl, tenantLabel: config.prometheusTenantLabel, timeoutMs: config.prometheusTimeoutMs });
  }
  return new EmbeddedMetricsQuery(new MetricReader(store, telemetry));
}
