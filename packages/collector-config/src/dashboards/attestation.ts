/** Attestation: attestations recorded, verified and refused by the Observability & Forensics service. */
import type { DashboardSpec } from './model.js';
import { METRICS, oneOf, quantile, selector, SERVICE_JOB, sumRate } from './promql.js';

const H = METRICS.httpDuration;
const SERVICE = `job="${SERVICE_JOB}"`;
const ATTESTATION_ROUTES = ['/attestations', '/attestations/:id', '/attestations/verify'];

export const attestationDashboard: DashboardSpec = {
  uid: 'stella-attestation',
  title: 'StellaOps / Attestation',
  description: 'Provenance attestations on the Observability & Forensics service: recorded (jobs and exports), verified on read and on request, refused.',
  tags: ['stellaops', 'attestation'],
  rows: [
    {
      title: 'Recorded',
      panels: [
        {
          title: 'Attestations recorded',
          description: "Attestations submitted or signed (POST /attestations) per second, by response status: 201 recorded, 4xx refused (400 attestation.invalid: an envelope that does not verify against the tenant's key ring, or a malformed statement).",
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(`${H}_count`, SERVICE, 'http_route="/attestations"', 'http_request_method="POST"'), ['http_response_status_code']), legend: '{{http_response_status_code}}' }],
        },
        {
          title: 'Attestations recorded by tenant',
          description: 'Attestations recorded (POST /attestations answered 2xx) per second per tenant.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(`${H}_count`, SERVICE, 'http_route="/attestations"', 'http_request_method="POST"', 'http_response_status_code=~"2.."'), ['stella_tenant_id']), legend: '{{stella_tenant_id}}' }],
        },
        {
          title: 'Attestation API latency (P95)',
          description: 'HTTP request duration of the attestation routes, P95 per method and route. Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'service',
          queries: [{ expr: quantile(0.95, H, [SERVICE, oneOf('http_route', ATTESTATION_ROUTES)], ['http_request_method', 'http_route']), legend: '{{http_request_method}} {{http_route}}', exemplar: true }],
        },
      ],
    },
    {
      title: 'Verification',
      panels: [
        {
          title: 'Verifications requested',
          description: 'Verification requests (POST /attestations/verify) per second, by status. A verification that finds failures still answers 200 with status "failed" in its body, so failed verifications show in that body only: no metric counts them yet.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(`${H}_count`, SERVICE, 'http_route="/attestations/verify"', 'http_request_method="POST"'), ['http_response_status_code']), legend: '{{http_response_status_code}}' }],
        },
        {
          title: 'Verified on read',
          description: 'Attestation reads (GET /attestations, GET /attestations/:id), each verified as it is read, per second by route and status.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(`${H}_count`, SERVICE, oneOf('http_route', ['/attestations', '/attestations/:id']), 'http_request_method="GET"'), ['http_route', 'http_response_status_code']), legend: '{{http_route}} {{http_response_status_code}}' }],
        },
        {
          title: 'Attestation refusals and failures',
          description: 'Attestation requests answered 4xx or 5xx, by method, route and status: envelopes that fail verification or malformed statements on submit (400), unknown attestations (404), an existing subject (409), denied scopes (403), service failures (5xx).',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(`${H}_count`, SERVICE, oneOf('http_route', ATTESTATION_ROUTES), 'http_response_status_code=~"[45].."'), ['http_request_method', 'http_route', 'http_response_status_code']), legend: '{{http_request_method}} {{http_route}} {{http_response_status_code}}' }],
        },
      ],
    },
  ],
};
