/**
 * The one access decision, for the HTTP API (auth-plugin.ts) and the OTLP receivers
 * (otlp/otlp-auth.ts) alike: verify the bearer token, take the tenant from `X-Stella-Tenant` or
 * the token's only tenant, and grant if the token holds one of the required scope bases for that
 * tenant (or platform-wide). Operators' routes over every tenant (`platform` in the catalogue)
 * select no tenant and grant only a platform-wide scope. Every decision, allow or deny, goes
 * through telemetry-core's `logDecision`; refusals are `ServiceError`s with the catalogue's codes.
 */
import { isValidTenantId, logDecision, tenantIdProblem } from '@stellaops/telemetry-core';
import { ServiceError } from '../errors.js';
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

/** What is asked for: `anyOf` scope bases (the first is the one a refusal names), on `resource` by `action`. */
export interface AccessRule {
  anyOf: readonly [string, ...string[]];
  /** For the decision log, e.g. `GET /timeline` or `POST /v1/traces`. */
  resource: string;
  action: string;
}

/** Verifies the `Authorization` header; a refusal is logged and thrown (`auth.token_*`, `auth.authority_unavailable`). */
export async function verifyCaller(verifier: TokenVerifier, authorization: string | undefined, rule: Pick<AccessRule, 'resource' | 'action'>): Promise<Principal> {
  try {
    return await verifier.verifyAuthorization(authorization);
  } catch (error) {
    if (error instanceof ServiceError) {
      logDecision({ kind: 'authz', effect: 'deny', reason: `${error.code}: ${AUTHN_REASONS[error.code] ?? 'credentials rejected'}`, resource: rule.resource, action: rule.action });
    }
    throw error;
  }
}

/** The tenant a request acts on: the header's, else the token's only tenant. */
export function selectTenant(tenantHeader: string | readonly string[] | undefined, principal: Principal): string {
  if (tenantHeader !== undefined) {
    const value = typeof tenantHeader === 'string' ? tenantHeader : tenantHeader[0];
    if (!isValidTenantId(value)) throw new ServiceError('tenant.invalid', tenantIdProblem('X-Stella-Tenant'), { field: 'headers.x-stella-tenant' });
    return value;
  }
  const tenants = principal.scopes.tenants();
  if (tenants.length === 1) return tenants[0]!;
  if (tenants.length === 0) throw new ServiceError('tenant.required', 'name the tenant with the X-Stella-Tenant header', { field: 'headers.x-stella-tenant' });
  throw new ServiceError('tenant.ambiguous', 'the token grants several tenants; name one with the X-Stella-Tenant header', { field: 'headers.x-stella-tenant' });
}

/** Grants `rule` to a verified principal for the selected tenant, or refuses (`auth.scope_denied`, `auth.tenant_denied`). */
export function grantAccess(principal: Principal, tenantHeader: string | readonly string[] | undefined, rule: AccessRule): AuthContext {
  const tenant = selectTenant(tenantHeader, principal);
  const required = tenantScope(rule.anyOf[0], tenant);
  const granted = rule.anyOf.find((base) => principal.scopes.grants(base, tenant));
  if (granted) {
    const grantedBy = principal.rawScopes.find((s) => s === granted || s === tenantScope(granted, tenant)) ?? tenantScope(granted, tenant);
    logDecision({ kind: 'authz', effect: 'allow', reason: `granted by ${grantedBy}`, scope: grantedBy, resource: rule.resource, action: rule.action, tenant_id: tenant });
    return { principal, tenant, grantedBy };
  }
  const otherTenant = rule.anyOf.some((b) => principal.scopes.grantsAnyTenant(b));
  const code = otherTenant ? 'auth.tenant_denied' : 'auth.scope_denied';
  const message = otherTenant
    ? `the token grants this action for other tenants but not for tenant "${tenant}"; it needs ${required}`
    : `the token lacks the scope ${required}${rule.anyOf.length > 1 ? ` (or ${rule.anyOf.slice(1).map((b) => tenantScope(b, tenant)).join(', ')})` : ''}`;
  logDecision({ kind: 'authz', effect: 'deny', reason: `${code}: ${message}`, scope: required, resource: rule.resource, action: rule.action, tenant_id: tenant });
  throw new ServiceError(code, message, { extra: { required_scope: required, tenant } });
}

/** Verifies the token and grants `rule`: the whole decision for one request. */
export async function authorize(verifier: TokenVerifier, request: { authorization: string | undefined; tenantHeader: string | readonly string[] | undefined }, rule: AccessRule): Promise<AuthContext> {
  const principal = await verifyCaller(verifier, request.authorization, rule);
  return grantAccess(principal, request.tenantHeader, rule);
}

/** A request granted platform-wide: who, and the scope that granted it (e.g. `stella:obs:read`). */
export interface PlatformAuthContext {
  principal: Principal;
  grantedBy: string;
}

/**
 * Grants `rule` platform-wide, or refuses with `auth.scope_denied`: a scope granted only for
 * some tenants does not do, and the refusal says so. `required_scope` is the base without a
 * tenant suffix; no tenant is selected, so the answer names none.
 */
export function grantPlatformAccess(principal: Principal, rule: AccessRule): PlatformAuthContext {
  const granted = rule.anyOf.find((base) => principal.scopes.grantsPlatform(base));
  if (granted) {
    logDecision({ kind: 'authz', effect: 'allow', reason: `granted platform-wide by ${granted}`, scope: granted, resource: rule.resource, action: rule.action });
    return { principal, grantedBy: granted };
  }
  const required = rule.anyOf[0];
  const alternatives = rule.anyOf.length > 1 ? ` (or ${rule.anyOf.slice(1).join(', ')})` : '';
  const tenantBound = rule.anyOf.some((base) => principal.scopes.grantsAnyTenant(base));
  const message = tenantBound
    ? `this route covers every tenant, so it needs the platform-wide scope ${required}${alternatives}, without #tenant/<id>; the token grants it only for particular tenants`
    : `the token lacks the platform-wide scope ${required}${alternatives}; this route covers every tenant, so the scope must be granted without #tenant/<id>`;
  logDecision({ kind: 'authz', effect: 'deny', reason: `auth.scope_denied: ${message}`, scope: required, resource: rule.resource, action: rule.action });
  throw new ServiceError('auth.scope_denied', message, { extra: { required_scope: required } });
}

/** Verifies the token and grants `rule` platform-wide: the whole decision for an operators' route. */
export async function authorizePlatform(verifier: TokenVerifier, authorization: string | undefined, rule: AccessRule): Promise<PlatformAuthContext> {
  const principal = await verifyCaller(verifier, authorization, rule);
  return grantPlatformAccess(principal, rule);
}
