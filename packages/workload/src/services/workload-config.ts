/**
 * How a workload service process is configured: one JSON document in `STELLA_WORKLOAD_CONFIG`
 * (the demo driver writes it), so every process of the workload sees the same peer map.
 */
export const SERVICE_NAMES = ['sbom-service', 'conseiller', 'excitator', 'policy-engine', 'export-center', 'orchestrator', 'task-runner'] as const;
export type WorkloadServiceName = (typeof SERVICE_NAMES)[number];

export interface WorkloadConfig {
  /** Which service this process runs. */
  service: WorkloadServiceName;
  /** Base URL of every workload service (ports are chosen by the driver before any starts). */
  peers: Record<WorkloadServiceName, string>;
  /** Tenants this deployment serves (incident modes are followed per tenant). */
  tenants: string[];
  /** Base URL of the Observability & Forensics service. */
  stellaUrl: string;
  /** This service's own bearer token for the Observability & Forensics service (platform-wide service scopes). */
  serviceToken: string;
  /** Directory holding sbom/, advisories/, vex/, policy/. */
  fixturesDir: string;
  /** `STELLA_ENV` of the run. Default `demo`. */
  env?: string;
  telemetry: {
    /** OTLP/HTTP base URL (`/v1/traces` ... appended). */
    otlpEndpoint?: string;
    /** Tenant for telemetry that belongs to no tenant (start-up, background work). Default `platform`. */
    platformTenant?: string;
    /** Directory for OTLP/JSON line files when no OTLP endpoint is given. */
    fileDir?: string;
    /** Head sampling ratio for traces that start in this service. */
    ratio: number;
    /** Metric push interval in ms. Default 2000. */
    metricsIntervalMs?: number;
    /** Poll the service's incident-mode API (only when it serves one). */
    incidentModeUrl?: string;
    /** Poll the service's deep-debug grants per tenant (only when it serves them). */
    deepDebugUrl?: string;
  };
  /** Which optional APIs of the Observability & Forensics service to use (present in this build). */
  features: { evidence: boolean; attestations: boolean };
}

export function readWorkloadConfig(env: NodeJS.ProcessEnv = process.env): WorkloadConfig {
  const raw = env['STELLA_WORKLOAD_CONFIG'];
  if (!raw) throw new Error('STELLA_WORKLOAD_CONFIG is not set; workload services are started by the demo driver (npm run demo)');
  const config = JSON.parse(raw) as WorkloadConfig;
  if (!(SERVICE_NAMES as readonly string[]).includes(config.service)) throw new Error(`unknown workload service "${config.service}"; one of ${SERVICE_NAMES.join(', ')}`);
  return config;
}
