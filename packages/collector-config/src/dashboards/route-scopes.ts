/**
 * Which scope a 403 of the Observability & Forensics service names, per route: the first
 * alternative of the route's requirement in the service's access catalogue (`ROUTE_ACCESS` of
 * @stellaops/server). The HTTP metrics carry the route, not the scope, so the denial panels
 * label each route's 403s with its scope; 403s of a route missing here show as
 * `scope="unlisted route"`, never vanish. A test checks the table against the catalogue: add a
 * new route here and run `npm run generate:dashboards`.
 */
import { oneOf, selector } from './promql.js';

/** Scope → the routes (`METHOD /template`) whose 403 names it. */
export const DENIAL_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'stella:attest:create': ['POST /attestations'],
  'stella:attest:read': ['GET /attestations', 'GET /attestations/:id', 'POST /attestations/verify'],
  'stella:evidence:admin': ['DELETE /evidence/:bundle_id', 'POST /evidence/keys/rotate', 'PUT /evidence/retention'],
  'stella:evidence:create': ['POST /evidence/artifacts', 'POST /evidence/snapshot'],
  'stella:evidence:export': ['GET /evidence/:bundle_id/archive', 'GET /telemetry/exports/forensic/:window', 'GET /telemetry/exports/signing-key', 'POST /evidence/hold/:case_id'],
  'stella:evidence:read': ['GET /custody/:resource_type/:resource_id', 'GET /evidence', 'GET /evidence/:bundle_id', 'GET /evidence/keyring', 'GET /evidence/retention', 'POST /evidence/verify'],
  'stella:incident:admin': ['POST /telemetry/incidents/mode'],
  'stella:obs:read': ['GET /obs/health', 'GET /obs/logs', 'GET /obs/metrics', 'GET /obs/routes', 'GET /obs/trace/:trace_id', 'GET /telemetry/incidents/mode'],
  'stella:telemetry:admin': ['GET /telemetry/quarantine', 'GET /telemetry/retention', 'POST /telemetry/quarantine/replay', 'POST /telemetry/reindex', 'PUT /telemetry/retention'],
  'stella:timeline:admin': ['PUT /timeline/retention'],
  'stella:timeline:read': ['GET /timeline', 'GET /timeline/:event_id', 'GET /timeline/retention'],
  'stella:timeline:write': ['POST /timeline/events'],
};

/** Routes that are privileged actions, audited as `audit.*` timeline events (AUTH-4). */
export const PRIVILEGED_ROUTES: readonly string[] = [
  'DELETE /evidence/:bundle_id',
  'GET /evidence/:bundle_id/archive',
  'GET /telemetry/exports/forensic/:window',
  'POST /evidence/hold/:case_id',
  'POST /evidence/keys/rotate',
  'POST /telemetry/incidents/mode',
  'POST /telemetry/quarantine/replay',
  'POST /telemetry/reindex',
  'PUT /evidence/retention',
  'PUT /telemetry/retention',
  'PUT /timeline/retention',
];

/** Route keys grouped by method, methods and routes sorted (stable output). */
export function byMethod(routes: readonly string[]): [method: string, routes: string[]][] {
  const groups = new Map<string, string[]>();
  for (const key of routes) {
    const [method, route] = key.split(' ') as [string, string];
    groups.set(method, [...(groups.get(method) ?? []), route]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([m, r]) => [m, [...r].sort()]);
}

/** The `scope` of 403s on routes this table does not list. */
export const UNLISTED_SCOPE = 'unlisted route';

/**
 * Series of `metric`, each labelled `scope` with the scope its route's 403 names:
 * `label_replace(<fn>(metric{..., method, routes}[w]), "scope", "<scope>", "", "") or ...`, and
 * the routes of no listed scope as `UNLISTED_SCOPE`.
 */
export function labelByDeniedScope(metric: string, matchers: readonly string[], fn: (sel: string) => string): string {
  const terms: string[] = [];
  const label = (sel: string, scope: string): string => `label_replace(${fn(sel)}, "scope", "${scope}", "", "")`;
  for (const scope of Object.keys(DENIAL_SCOPES).sort()) {
    for (const [method, routes] of byMethod(DENIAL_SCOPES[scope]!)) {
      terms.push(label(selector(metric, ...matchers, `http_request_method="${method}"`, oneOf('http_route', routes)), scope));
    }
  }
  const listed = byMethod(Object.values(DENIAL_SCOPES).flat());
  for (const [method, routes] of listed) terms.push(label(selector(metric, ...matchers, `http_request_method="${method}"`, `http_route!~"${routes.join('|')}"`), UNLISTED_SCOPE));
  terms.push(label(selector(metric, ...matchers, `http_request_method!~"${listed.map(([m]) => m).join('|')}"`), UNLISTED_SCOPE));
  return terms.join(' or ');
}
