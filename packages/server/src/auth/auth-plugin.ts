/**
 * Authentication and authorisation for every route, driven by the scope catalogue. Runs in
 * `onRequest`, before the body is parsed, so unauthenticated callers cost little. The request
 * names its tenant with `X-Stella-Tenant`, or the token names exactly one tenant in its
 * scopes. Every decision, allow or deny, goes through telemetry-core's `logDecision`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { enterRequestContext, isValidTenantId, logDecision } from '@stellaops/telemetry-core';
import { ServiceError } from '../errors.js';
import { ROUTE_ACCESS, routeKey, type RouteAccess } from './scope-catalogue.js';
import { tenantScope } from './scopes.js';
import type { Principal, TokenVerifier } from './token-verifier.js';

export const TENANT_HEADER = 'x-stella-tenant';

// Short, fixed reasons for the decision log (the client's message says more).
const AUTHN_REASONS: Partial<Record<string, string>> = {
  'auth.token_missing': 'no bearer credential presented',
  'auth.token_expired': 'credential expired',
  'auth.token_invalid': 'signature, format or claims rejected',
  'auth.authority_unavailable': 'authority keys could not be fetched',
};

export interface AuthContext {
  principal: Principal;
  tenant: string;
  /** The scope that granted access, e.g. `stella:timeline:read#tenant/acme`. */
  grantedBy: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every tenant-scoped route once the caller is authorised. */
    auth: AuthContext | undefined;
  }
}

export interface AuthPluginOptions {
  verifier: TokenVerifier;
  /** Route → access rule. Default: the service catalogue. */
  catalogue?: Readonly<Record<string, RouteAccess>>;
}

function selectTenant(request: FastifyRequest, principal: Principal): string {
  const header = request.headers[TENANT_HEADER];
  if (header !== undefined) {
    const value = Array.isArray(header) ? header[0] : header;
    if (!isValidTenantId(value)) {
      throw new ServiceError('tenant.invalid', 'X-Stella-Tenant must be 1-64 letters, digits, "_" or "-", starting with a letter or digit', {
        field: 'headers.x-stella-tenant',
      });
    }
    return value;
  }
  const tenants = principal.scopes.tenants();
  if (tenants.length === 1) return tenants[0]!;
  if (tenants.length === 0) throw new ServiceError('tenant.required', 'name the tenant with the X-Stella-Tenant header', { field: 'headers.x-stella-tenant' });
  throw new ServiceError('tenant.ambiguous', 'the token grants several tenants; name one with the X-Stella-Tenant header', {
    field: 'headers.x-stella-tenant',
  });
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  const catalogue = options.catalogue ?? ROUTE_ACCESS;
  app.decorateRequest('auth', undefined);

  // A route without an access rule is a bug that would ship an unguarded endpoint: refuse to start.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      if (!catalogue[routeKey(method, route.url)]) {
        throw new Error(`route ${routeKey(method, route.url)} has no entry in the scope catalogue (auth/scope-catalogue.ts)`);
      }
    }
  });

  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions.url;
    // Unmatched routes fall through to the 404 handler; HEAD shares its GET rule.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const rule = url === undefined ? undefined : catalogue[routeKey(method, url)];
    if (!rule || rule.kind === 'public') return done();
    authorize(request, rule, options.verifier, url!).then(
      (auth) => {
        request.auth = auth;
        enterRequestContext(request, { tenant_id: auth.tenant, actor: auth.principal.subject }, done);
      },
      (error: unknown) => done(error as Error),
    );
  });
}

async function authorize(request: FastifyRequest, rule: Extract<RouteAccess, { kind: 'tenant' }>, verifier: TokenVerifier, url: string): Promise<AuthContext> {
  const resource = `${request.method} ${url}`;
  let principal: Principal;
  try {
    principal = await verifier.verifyAuthorization(request.headers.authorization);
  } catch (error) {
    if (error instanceof ServiceError) {
      logDecision({ kind: 'authz', effect: 'deny', reason: `${error.code}: ${AUTHN_REASONS[error.code] ?? 'credentials rejected'}`, resource, action: request.method });
    }
    throw error;
  }
  const tenant = selectTenant(request, principal);
  const required = tenantScope(rule.anyOf[0], tenant);
  const granted = rule.anyOf.find((base) => principal.scopes.grants(base, tenant));
  if (granted) {
    const grantedBy = principal.rawScopes.find((s) => s === granted || s === tenantScope(granted, tenant)) ?? tenantScope(granted, tenant);
    logDecision({ kind: 'authz', effect: 'allow', reason: `granted by ${grantedBy}`, scope: grantedBy, resource, action: request.method, tenant_id: tenant });
    return { principal, tenant, grantedBy };
  }
  const otherTenant = rule.anyOf.some((b) => principal.scopes.grantsAnyTenant(b));
  const code = otherTenant ? 'auth.tenant_denied' : 'auth.scope_denied';
  const message = otherTenant
    ? `the token grants this action for other tenants but not for tenant "${tenant}"; it needs ${required}`
    : `the token lacks the scope ${required}${rule.anyOf.length > 1 ? ` (or ${rule.anyOf.slice(1).map((b) => tenantScope(b, tenant)).join(', ')})` : ''}`;
  logDecision({ kind: 'authz', effect: 'deny', reason: `${code}: ${message}`, scope: required, resource, action: request.method, tenant_id: tenant });
  throw new ServiceError(code, message, { extra: { required_scope: required, tenant } });
}

export const authentication = fp(authPlugin, { name: 'stella-auth' });
