/** Ingestion: SBOM and advisory intake, their refusals (AOC violations) and journey latency. */
import type { DashboardSpec } from './model.js';
import { INGEST_JOBS, METRICS, oneOf, quantile, RANGE, ratio, selector, shareWithin, sumRate } from './promql.js';

const H = METRICS.httpDuration;
const J = METRICS.journeyDuration;
const INGEST_ROUTES = ['/sboms', '/advisories/ingest', '/advisories/link', '/vex/reconcile'];
const INGEST_JOURNEYS = ['sbom_ingest', 'advisory_link', 'vex_reconcile'];
const ingestRequests = [oneOf('job', INGEST_JOBS), oneOf('http_route', INGEST_ROUTES)];
const refused = 'http_response_status_code=~"[45].."';

export const ingestionDashboard: DashboardSpec = {
  uid: 'stella-ingestion',
  title: 'StellaOps / Ingestion',
  description: 'SBOM and advisory intake (sbom-service, conseiller, excitator): request rates, refusals, the ingest journeys and their latency against SLO-1.',
  tags: ['stellaops', 'ingestion'],
  rows: [
    {
      title: 'Intake',
      panels: [
        {
          title: 'SBOM ingest rate',
          description: 'SBOM documents posted to sbom-service (POST /sboms) per second, by response status.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${H}_count`, 'job="sbom-service"', 'http_route="/sboms"', 'http_request_method="POST"'), ['http_response_status_code']), legend: '{{http_response_status_code}}' }],
        },
        {
          title: 'Advisory feed ingest rate',
          description: 'Advisory feed ingests on conseiller (POST /advisories/ingest) per second, by response status. 422 is a malformed advisory refused under the AOC rule.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${H}_count`, 'job="conseiller"', 'http_route="/advisories/ingest"', 'http_request_method="POST"'), ['http_response_status_code']), legend: '{{http_response_status_code}}' }],
        },
        {
          title: 'Ingest journeys by outcome',
          description: 'Completed sbom_ingest, advisory_link and vex_reconcile journeys per second (stella_journey_duration_seconds_count), success or failure.',
          type: 'timeseries',
          unit: 'ops',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${J}_count`, oneOf('stella_journey', INGEST_JOURNEYS)), ['stella_journey', 'outcome']), legend: '{{stella_journey}} {{outcome}}' }],
        },
      ],
    },
    {
      title: 'Refusals',
      panels: [
        {
          title: 'Ingest refusals by route and status',
          description: 'Ingest requests answered 4xx or 5xx, per route and status. 422 on /sboms or /advisories/ingest is an AOC violation (alert IngestionAocViolations).',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          width: 12,
          queries: [{ expr: sumRate(selector(`${H}_count`, ...ingestRequests, refused), ['job', 'http_route', 'http_response_status_code']), legend: '{{job}} {{http_route}} {{http_response_status_code}}' }],
        },
        {
          title: 'Ingest refusal ratio',
          description: 'Share of ingest requests answered 4xx or 5xx over the dashboard range.',
          type: 'stat',
          unit: 'percentunit',
          source: 'workload',
          decimals: 2,
          thresholds: [{ value: 0.01, color: 'orange' }, { value: 0.05, color: 'red' }],
          queries: [{ expr: ratio(sumRate(selector(`${H}_count`, ...ingestRequests, refused), [], RANGE), sumRate(selector(`${H}_count`, ...ingestRequests), [], RANGE)), legend: 'refused' }],
        },
        {
          title: 'Ingest requests by tenant',
          description: 'Ingest requests per second per tenant (stella_tenant_id).',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          width: 6,
          queries: [{ expr: sumRate(selector(`${H}_count`, ...ingestRequests), ['stella_tenant_id']), legend: '{{stella_tenant_id}}' }],
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          title: 'SBOM ingest latency',
          description: 'sbom_ingest journey duration, P50/P95/P99. The dashed line is the SLO-1 threshold (95% within 5 s). Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          thresholds: [{ value: 5, color: 'red' }],
          queries: [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, J, ['stella_journey="sbom_ingest"']), legend: `p${q * 100}`, exemplar: true })),
        },
        {
          title: 'Advisory link and VEX reconcile latency (P95)',
          description: 'advisory_link (SLO-1: 95% within 30 s, dashed) and vex_reconcile journey duration, P95. Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          thresholds: [{ value: 30, color: 'red' }],
          queries: [{ expr: quantile(0.95, J, [oneOf('stella_journey', ['advisory_link', 'vex_reconcile'])], ['stella_journey']), legend: '{{stella_journey}} p95', exemplar: true }],
        },
        {
          title: 'SBOM ingests within 5 s',
          description: 'SLO-1: share of sbom_ingest journeys that succeeded within 5 s over the dashboard range (objective 95%).',
          type: 'stat',
          unit: 'percentunit',
          source: 'workload',
          decimals: 2,
          min: 0,
          max: 1,
          baseColor: 'red',
          thresholds: [{ value: 0.95, color: 'green' }],
          queries: [{ expr: shareWithin(J, 5, ['stella_journey="sbom_ingest"', 'outcome="success"'], ['stella_journey="sbom_ingest"']), legend: 'within 5 s' }],
        },
        {
          title: 'Ingest request latency by route (P95)',
          description: 'HTTP request duration of the ingest services, P95 per service and route. Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          width: 16,
          queries: [{ expr: quantile(0.95, H, [oneOf('job', INGEST_JOBS)], ['job', 'http_route']), legend: '{{job}} {{http_route}}', exemplar: true }],
        },
      ],
    },
  ],
};
