/**
 * @stellaops/collector-config — deployment configuration for the StellaOps telemetry stack,
 * generated and validated as code. Today: SLOs (OpenSLO v1 → Prometheus rules and their
 * promtool tests); collector profiles slot in beside them.
 */
export * from './slo/index.js';
export * from './dashboards/index.js';
