/** Options the profile tests render with: a policy using every mapped field, and non-default endpoints. */
import { fileURLToPath } from 'node:url';
import { loadTelemetryPolicy } from '@stellaops/telemetry-core/policy';
import type { ProfileName, RenderOptions } from '../../src/index.ts';

export const FIXTURE_POLICY_FILE = fileURLToPath(new URL('./fixtures/telemetry-policy.yaml', import.meta.url));
export const FIXTURE_POLICY = loadTelemetryPolicy(FIXTURE_POLICY_FILE);

/** Per profile: what the golden files are rendered from. */
export const GOLDEN_OPTIONS: Readonly<Record<ProfileName, RenderOptions>> = {
  default: {
    policyFile: FIXTURE_POLICY_FILE,
    tls: { certFile: '/etc/otelcol/tls/collector.crt', keyFile: '/etc/otelcol/tls/collector.key', clientCaFile: '/etc/otelcol/tls/clients.crt', minVersion: '1.3' },
    tempo: { endpoint: 'tempo.obs.corp:4317', tls: { caFile: '/etc/otelcol/tls/backends-ca.crt' } },
    loki: { endpoint: 'https://loki.enclave.corp:3100/otlp' },
    exporterAllowlist: ['tempo.obs.corp:4317'],
    dataDir: '/srv/otelcol/default',
    generatedBy: 'Golden file of the collector-config tests.',
  },
  forensic: {
    policyFile: FIXTURE_POLICY_FILE,
    tls: { clientCaFile: null },
    sampling: { services: { 'policy-engine': 100, 'export-center': 100, conseiller: 50 } },
    generatedBy: 'Golden file of the collector-config tests.',
  },
  airgap: {
    policyFile: FIXTURE_POLICY_FILE,
    tls: false,
    dataDir: '/srv/otelcol/airgap',
    generatedBy: 'Golden file of the collector-config tests.',
  },
};
