/** Policy: evaluation rate, outcomes and latency of the policy engine against SLO-1. */
import type { DashboardSpec } from './model.js';
import { METRICS, quantile, RANGE, ratio, selector, shareWithin, sumRate } from './promql.js';

const H = METRICS.httpDuration;
const J = METRICS.journeyDuration;
const EVALUATE = 'stella_journey="policy_evaluate"';
const ENGINE = 'job="policy-engine"';

export const policyDashboard: DashboardSpec = {
  uid: 'stella-policy',
  title: 'StellaOps / Policy',
  description: 'Policy engine: evaluations per second, their outcomes and requests, evaluation latency P95/P99 against SLO-1 (95% within 2 s) and engine errors.',
  tags: ['stellaops', 'policy'],
  rows: [
    {
      title: 'Evaluations',
      panels: [
        {
          title: 'Policy evaluations by outcome',
          description: 'policy_evaluate journeys per second, success or failure. The effect of each decision (allow, warn, deny) is in the decision log and the policy.evaluated timeline event; no metric carries it.',
          type: 'timeseries',
          unit: 'ops',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${J}_count`, EVALUATE), ['outcome']), legend: '{{outcome}}' }],
        },
        {
          title: 'Evaluation requests by status',
          description: 'Decision requests to the policy engine (POST /policy/evaluate) per second, by response status.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${H}_count`, ENGINE, 'http_route="/policy/evaluate"', 'http_request_method="POST"'), ['http_response_status_code']), legend: '{{http_response_status_code}}' }],
        },
        {
          title: 'Policy evaluations by tenant',
          description: 'policy_evaluate journeys per second per tenant.',
          type: 'timeseries',
          unit: 'ops',
          source: 'workload',
          queries: [{ expr: sumRate(selector(`${J}_count`, EVALUATE), ['stella_tenant_id']), legend: '{{stella_tenant_id}}' }],
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          title: 'Policy evaluation latency (P95, P99)',
          description: 'policy_evaluate journey duration. The dashed line is the SLO-1 threshold (95% within 2 s; alert PolicyEvaluationLatencyHigh on P95). Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          width: 12,
          thresholds: [{ value: 2, color: 'red' }],
          queries: [0.95, 0.99].map((q) => ({ expr: quantile(q, J, [EVALUATE]), legend: `p${q * 100}`, exemplar: true })),
        },
        {
          title: 'Evaluations within 2 s',
          description: 'SLO-1: share of policy_evaluate journeys that succeeded within 2 s over the dashboard range (objective 95%).',
          type: 'stat',
          unit: 'percentunit',
          source: 'workload',
          width: 4,
          decimals: 2,
          min: 0,
          max: 1,
          baseColor: 'red',
          thresholds: [{ value: 0.95, color: 'green' }],
          queries: [{ expr: shareWithin(J, 2, [EVALUATE, 'outcome="success"'], [EVALUATE]), legend: 'within 2 s' }],
        },
        {
          title: 'Evaluation latency by tenant (P95)',
          description: 'policy_evaluate journey duration per tenant, P95. Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          queries: [{ expr: quantile(0.95, J, [EVALUATE], ['stella_tenant_id']), legend: '{{stella_tenant_id}} p95', exemplar: true }],
        },
      ],
    },
    {
      title: 'Policy engine',
      panels: [
        {
          title: 'Engine request latency by route (P95)',
          description: 'HTTP request duration of the policy engine per route, P95. Exemplar points open their trace.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          width: 12,
          queries: [{ expr: quantile(0.95, H, [ENGINE], ['http_route']), legend: '{{http_route}}', exemplar: true }],
        },
        {
          title: 'Engine 5xx ratio',
          description: 'Share of policy engine requests that ended 5xx over the dashboard range (availability SLO: 99.9% without a 5xx).',
          type: 'stat',
          unit: 'percentunit',
          source: 'workload',
          width: 6,
          decimals: 3,
          thresholds: [{ value: 0.001, color: 'red' }],
          queries: [{ expr: ratio(sumRate(selector(`${H}_count`, ENGINE, 'http_response_status_code=~"5.."'), [], RANGE), sumRate(selector(`${H}_count`, ENGINE), [], RANGE)), legend: '5xx' }],
        },
        {
          title: 'Engine requests per second',
          description: 'All policy engine requests per second, by route.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'workload',
          width: 6,
          queries: [{ expr: sumRate(selector(`${H}_count`, ENGINE), ['http_route']), legend: '{{http_route}}' }],
        },
      ],
    },
  ],
};
