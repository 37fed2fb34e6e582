/** The hub's links to "why is this red?" and who sees the top noisy tenants. */
import { describe, expect, it } from 'vitest';
import { hrefOf } from '../src/routing/routes.js';
import { isOperator, routeWhy, sloWhy, tileWhy } from '../src/hub/why-links.js';

describe('the hub\'s "why is this red?" links', () => {
  it('leads from a degraded or down service, a down one over the last day, and from nothing up', () => {
    expect(tileWhy({ service: 'sbom-service', status: 'degraded' })).toEqual({ page: 'why', query: { service: 'sbom-service', window: undefined } });
    expect(hrefOf(tileWhy({ service: 'sbom-service', status: 'degraded' })!)).toBe('/console/why?service=sbom-service');
    expect(hrefOf(tileWhy({ service: 'policy-engine', status: 'down' })!)).toBe('/console/why?service=policy-engine&window=1440');
    expect(tileWhy({ service: 'conseiller', status: 'up' })).toBeUndefined();
  });

  it('leads from an SLO burning at page or ticket level to its service, not from one that is ok or without data', () => {
    expect(hrefOf(sloWhy({ service: 'sbom-service', state: 'page' })!)).toBe('/console/why?service=sbom-service');
    expect(hrefOf(sloWhy({ service: 'export-center', state: 'ticket' })!)).toBe('/console/why?service=export-center');
    expect(sloWhy({ service: 'x', state: 'ok' })).toBeUndefined();
    expect(sloWhy({ service: 'x', state: 'no_data' })).toBeUndefined();
  });

  it('leads from a failing route with its service and route', () => {
    expect(hrefOf(routeWhy({ service: 'api-gateway', route: '/policy/evaluate', errors: 3 })!)).toBe('/console/why?service=api-gateway&route=%2Fpolicy%2Fevaluate');
    expect(routeWhy({ service: 'api-gateway', route: '/healthz', errors: 0 })).toBeUndefined();
  });
});

describe('top noisy tenants', () => {
  it('are for a platform-wide stella:obs:read or stella:telemetry:admin only', () => {
    expect(isOperator({ platform_scopes: ['stella:obs:read'] })).toBe(true);
    expect(isOperator({ platform_scopes: ['stella:telemetry:admin'] })).toBe(true);
    // Tenant-bound grants are not in platform_scopes; other platform-wide scopes do not open the route.
    expect(isOperator({ platform_scopes: [] })).toBe(false);
    expect(isOperator({ platform_scopes: ['stella:timeline:read', 'stella:evidence:admin'] })).toBe(false);
  });
});
