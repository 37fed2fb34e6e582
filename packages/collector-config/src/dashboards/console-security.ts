/**
 * Console security: what the Observability & Forensics service refused — 403s by the scope
 * they name, 401 token failures on the API and the OTLP receivers — and the privileged actions
 * it audited.
 */
import type { DashboardSpec } from './model.js';
import { METRICS, oneOf, RANGE, RATE, ratio, selector, SERVICE_JOB, sumRate } from './promql.js';
import { byMethod, labelByDeniedScope, PRIVILEGED_ROUTES } from './route-scopes.js';

const H = `${METRICS.httpDuration}_count`;
const SERVICE = `job="${SERVICE_JOB}"`;
const DENIED = 'http_response_status_code="403"';
const UNAUTHENTICATED = 'http_response_status_code="401"';

const privileged = byMethod(PRIVILEGED_ROUTES)
  .map(([method, routes]) => sumRate(selector(H, SERVICE, `http_request_method="${method}"`, oneOf('http_route', routes), 'http_response_status_code=~"2.."'), ['http_request_method', 'http_route']))
  .join(' or ');

export const consoleSecurityDashboard: DashboardSpec = {
  uid: 'stella-console-security',
  title: 'StellaOps / Console security',
  description: 'Access control on the Observability & Forensics service, which the Console and the CLI call: authorization denials by the scope they name, token failures on the API and the OTLP receivers, and the privileged actions audited as timeline events.',
  tags: ['stellaops', 'security'],
  rows: [
    {
      title: 'Authorization denials',
      panels: [
        {
          title: 'Denials by required scope',
          description: "403 answers per second, labelled with the scope the denial names (the first scope of the route's requirement): auth.scope_denied (the token lacks the scope) and auth.tenant_denied (it holds it for other tenants). 'unlisted route': a route newer than this dashboard; see Denials by route.",
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          width: 12,
          queries: [{ expr: `sum by (scope) (${labelByDeniedScope(H, [SERVICE, DENIED], (sel) => `rate(${sel}[${RATE}])`)})`, legend: '{{scope}}' }],
        },
        {
          title: 'Denials by route',
          description: '403 answers per second, by method and route.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          width: 12,
          queries: [{ expr: sumRate(selector(H, SERVICE, DENIED), ['http_request_method', 'http_route']), legend: '{{http_request_method}} {{http_route}}' }],
        },
        {
          title: 'Denials by tenant',
          description: '403 answers per second, by the tenant the request asked for.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(H, SERVICE, DENIED), ['stella_tenant_id']), legend: '{{stella_tenant_id}}' }],
        },
        {
          title: 'Refused share (401 and 403)',
          description: 'Share of API requests answered 401 or 403 over the dashboard range.',
          type: 'stat',
          unit: 'percentunit',
          source: 'service',
          width: 4,
          decimals: 2,
          thresholds: [{ value: 0.01, color: 'orange' }, { value: 0.05, color: 'red' }],
          queries: [{ expr: ratio(sumRate(selector(H, SERVICE, 'http_response_status_code=~"401|403"'), [], RANGE), sumRate(selector(H, SERVICE), [], RANGE)), legend: 'refused' }],
        },
      ],
    },
    {
      title: 'Token failures',
      panels: [
        {
          title: 'API token failures (401)',
          description: 'API requests refused 401 per second, by method and route: no bearer token, a token that does not verify (signature, issuer, audience, algorithm) or an expired one.',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          width: 12,
          queries: [{ expr: sumRate(selector(H, SERVICE, UNAUTHENTICATED), ['http_request_method', 'http_route']), legend: '{{http_request_method}} {{http_route}}' }],
        },
        {
          title: 'OTLP receiver auth refusals',
          description: 'OTLP requests refused for their token or tenant per second, by signal and error code (auth.token_missing, auth.token_invalid, auth.token_expired, auth.scope_denied, otlp.tenant_mismatch).',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          width: 12,
          queries: [{ expr: sumRate(selector(METRICS.receiverRefused, 'error_code=~"auth\\\\..+|otlp\\\\.tenant_mismatch"'), ['signal', 'error_code']), legend: '{{signal}} {{error_code}}' }],
        },
      ],
    },
    {
      title: 'Privileged actions',
      panels: [
        {
          title: 'Privileged actions performed',
          description: 'Privileged actions that succeeded (incident toggles, holds, exports, key rotation, retention changes, quarantine replay, reindex), per second by route; each is an audit.* timeline event (AUTH-4).',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          width: 24,
          queries: [{ expr: privileged, legend: '{{http_request_method}} {{http_route}}' }],
        },
      ],
    },
  ],
};
