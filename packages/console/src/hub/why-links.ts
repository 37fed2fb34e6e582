/**
 * Which parts of the hub lead to "why is this red?", and with what source: a degraded or down
 * service (a down one over the last day: it has been quiet for the last 15 minutes), a burning
 * SLO's service (page or ticket), a failing route's service and route. The top noisy tenants
 * are for operators: a token with a platform-wide `stella:obs:read` or `stella:telemetry:admin`.
 */
import type { RouteStats, ServiceHealth, SloStatus, WhoAmI } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';

/** The look-back, in minutes, for a service that is down (seen within the day, not in the last 15 minutes). */
export const DOWN_WINDOW_MINUTES = 1440;

export function tileWhy(service: Pick<ServiceHealth, 'service' | 'status'>): Route | undefined {
  if (service.status === 'up') return undefined;
  return { page: 'why', query: { service: service.service, window: service.status === 'down' ? String(DOWN_WINDOW_MINUTES) : undefined } };
}

export function sloWhy(slo: Pick<SloStatus, 'service' | 'state'>): Route | undefined {
  return slo.state === 'page' || slo.state === 'ticket' ? { page: 'why', query: { service: slo.service } } : undefined;
}

export function routeWhy(route: Pick<RouteStats, 'service' | 'route' | 'errors'>): Route | undefined {
  return route.errors > 0 ? { page: 'why', query: { service: route.service, route: route.route } } : undefined;
}

/** Platform-wide scopes that let `GET /obs/tenants` answer. */
const OPERATOR_SCOPES: readonly string[] = ['stella:obs:read', 'stella:telemetry:admin'];

/** Whether the signed-in token may see every tenant's volumes. */
export function isOperator(who: Pick<WhoAmI, 'platform_scopes'>): boolean {
  return who.platform_scopes.some((s) => OPERATOR_SCOPES.includes(s));
}
