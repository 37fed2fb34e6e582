/**
 * @stellaops/collector-config — deployment configuration for the StellaOps telemetry stack,
 * generated and validated as code: SLOs (OpenSLO v1 → Prometheus rules and their promtool
 * tests), Grafana dashboards, Collector profiles and the Prometheus, Tempo and Loki configs
 * that go with them.
 */
export * from './slo/index.js';
export * from './dashboards/index.js';
export * from './profiles/index.js';
export * from './backends/index.js';
