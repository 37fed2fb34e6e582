/** Export: export-center jobs and their latency, forensic capture bundles and evidence exports. */
import type { DashboardSpec } from './model.js';
import { METRICS, oneOf, quantile, selector, SERVICE_JOB, shareWithin, sumIncrease, sumRate } from './promql.js';

const H = METRICS.httpDuration;
const J = METRICS.journeyDuration;
const B = METRICS.bundleGeneration;
const EXPORT = 'stella_journey="export_bundle"';
const CENTER = 'job="export-center"';
const SERVICE = `job="${SERVICE_JOB}"`;
const EVIDENCE_EXPORT_ROUTES = ['/evidence/snapshot', '/evidence/:bundle_id/archive', '/telemetry/exports/forensic/:window'];

export const exportDashboard: DashboardSpec = {
  uid: 'stella-export',
  title: 'StellaOps / Export',
  description: 'Export bundles (export-center) against SLO-1 (95% available within 90 s), and the forensic capture bundles and evidence exports of the Observability & Forensics service.',
  tags: ['stellaops', 'export'],
  rows: [
    {
      title: 'Export jobs',
      panels: [
        {
          title: 'Export bundles by outcome',
          description: 'export_bundle journeys per second, success or failure.',
          type: 'timeseries',
          unit: 'ops',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${J}_count`, EXPORT), ['outcome']), legend: '{{outcome}}' }],
        },
        {
          title: 'Export requests by status',
          description: 'Exports requested (POST /exports) and fetched (GET /exports/:export_id) on export-center per second, by response status.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${H}_count`, CENTER, oneOf('http_route', ['/exports', '/exports/:export_id'])), ['http_request_method', 'http_route', 'http_response_status_code']), legend: '{{http_request_method}} {{http_route}} {{http_response_status_code}}' }],
        },
        {
          title: 'Exports by tenant',
          description: 'export_bundle journeys per second per tenant.',
          type: 'timeseries',
          unit: 'ops',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${J}_count`, EXPORT), ['stella_tenant_id']), legend: '{{stella_tenant_id}}' }],
        },
      ],
    },
    {
      title: 'Export latency',
      panels: [
        {
          title: 'Export bundle latency',
          description: 'export_bundle journey duration, P50/P95/P99. The dashed line is the SLO-1 threshold (95% within 90 s). Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          width: 12,
          thresholds: [{ value: 90, color: 'red' }],
          queries: [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, J, [EXPORT]), legend: `p${q * 100}`, exemplar: true })),
        },
        {
          title: 'Exports within 90 s',
          description: 'SLO-1: share of export_bundle journeys that succeeded within 90 s over the dashboard range (objective 95%).',
          type: 'stat',
          unit: 'percentunit',
          source: 'workload',
          width: 4,
          decimals: 2,
          min: 0,
          max: 1,
          baseColor: 'red',
          thresholds: [{ value: 0.95, color: 'green' }],
          queries: [{ expr: shareWithin(J, 90, [EXPORT, 'outcome="success"'], [EXPORT]), legend: 'within 90 s' }],
        },
        {
          title: 'Export request latency (P95)',
          description: 'HTTP request duration of export-center per route, P95. Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          queries: [{ expr: quantile(0.95, H, [CENTER], ['http_route']), legend: '{{http_route}}', exemplar: true }],
        },
      ],
    },
    {
      title: 'Forensic bundles and evidence exports (Observability & Forensics service)',
      panels: [
        {
          title: 'Forensic capture bundles by outcome',
          description: 'Forensic capture bundles built (telemetry_bundle_generation_seconds_count) per interval, success or failure (alert TelemetryBundleGenerationErrors).',
          type: 'timeseries',
          unit: 'short',
          source: 'service',
          queries: [{ expr: sumIncrease(selector(`${B}_count`), ['outcome']), legend: '{{outcome}}' }],
        },
        {
          title: 'Forensic bundle generation time',
          description: 'Time to build a forensic capture bundle, P50/P95. The dashed line is the TelemetryBundleGenerationSlow threshold (P95 above 120 s). Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'service',
          thresholds: [{ value: 120, color: 'red' }],
          queries: [0.5, 0.95].map((q) => ({ expr: quantile(q, B, []), legend: `p${q * 100}`, exemplar: true })),
        },
        {
          title: 'Evidence snapshots and exports by status',
          description: 'Evidence snapshots (POST /evidence/snapshot), bundle archive downloads and forensic captures served by the service per second, by route and status.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(`${H}_count`, SERVICE, oneOf('http_route', EVIDENCE_EXPORT_ROUTES)), ['http_route', 'http_response_status_code']), legend: '{{http_route}} {{http_response_status_code}}' }],
        },
      ],
    },
  ],
};
