/**
 * Who is sending: the OTLP listeners are outside the Fastify app, so they authenticate here,
 * with the same token verifier and tenant rules as the API — tenant from `X-Stella-Tenant` or
 * the token's only tenant, and the scope `stella:telemetry:write` for it. Decisions go through
 * `logDecision` like the API's; a verified token is reused for 30 s (exporters send the same one
 * with every batch, and verifying an ES256 signature per batch would cost more than decoding it),
 * which is within the verifier's own 30 s clock tolerance.
 */
import { isValidTenantId, logDecision } from '@stellaops/telemetry-core';
import { DevAuthority, DEV_AUTHORITY_ISSUER } from '../auth/dev-authority.js';
import { tenantScope } from '../auth/scopes.js';
import { TokenVerifier, type JwksSource } from '../auth/token-verifier.js';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { OtlpError, toOtlpError } from './otlp-error.js';

export const TELEMETRY_WRITE_SCOPE = 'stella:telemetry:write';

/** The verifier the API uses, built from the same configuration (the development authority's key when no JWKS is set). */
export async function verifierFromConfig(config: ServiceConfig, clock: () => number): Promise<TokenVerifier> {
  let jwks: JwksSource;
  let issuer = config.authIssuer;
  if (config.authJwksUrl) jwks = { url: config.authJwksUrl };
  else if (config.authJwksFile) jwks = { file: config.authJwksFile };
  else {
    const authority = await DevAuthority.open(config.dataDir);
    jwks = { keys: authority.jwks as never };
    issuer ??= DEV_AUTHORITY_ISSUER;
  }
  return new TokenVerifier({ jwks, issuer, audience: config.authAudience, clock });
}

export interface OtlpCaller {
  tenant: string;
  subject: string;
}

export class OtlpAuthenticator {
  // Verified tokens are reused for a short while: exporters send the same token with every batch.
  private readonly cache = new Map<string, { caller: Map<string, OtlpCaller>; expires: number; principal: Awaited<ReturnType<TokenVerifier['verifyAuthorization']>> }>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly clock: () => number = Date.now,
  ) {}

  async authenticate(authorization: string | undefined, tenantHeader: string | undefined, resource: string): Promise<OtlpCaller> {
    const now = this.clock();
    const key = authorization ?? '';
    let entry = this.cache.get(key);
    if (!entry || entry.expires <= now) {
      let principal;
      try {
        principal = await this.verifier.verifyAuthorization(authorization);
      } catch (error) {
        if (error instanceof ServiceError) {
          logDecision({ kind: 'authz', effect: 'deny', reason: `${error.code}: credentials rejected`, resource, action: 'POST' });
          throw toOtlpError(error);
        }
        throw new OtlpError('otlp.unavailable', 'the token could not be verified right now', 5, { cause: error });
      }
      if (this.cache.size > 1000) this.cache.clear();
      entry = { caller: new Map(), expires: now + 30_000, principal };
      this.cache.set(key, entry);
    }
    const cached = entry.caller.get(tenantHeader ?? '');
    if (cached) return cached;
    const { principal } = entry;
    let tenant: string;
    if (tenantHeader !== undefined) {
      if (!isValidTenantId(tenantHeader)) throw new OtlpError('tenant.invalid', 'X-Stella-Tenant must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
      tenant = tenantHeader;
    } else {
      const tenants = principal.scopes.tenants();
      if (tenants.length === 0) throw new OtlpError('tenant.required', 'name the tenant with the X-Stella-Tenant header');
      if (tenants.length > 1) throw new OtlpError('tenant.ambiguous', 'the token grants several tenants; name one with the X-Stella-Tenant header');
      tenant = tenants[0]!;
    }
    if (!principal.scopes.grants(TELEMETRY_WRITE_SCOPE, tenant)) {
      const required = tenantScope(TELEMETRY_WRITE_SCOPE, tenant);
      const other = principal.scopes.grantsAnyTenant(TELEMETRY_WRITE_SCOPE);
      logDecision({ kind: 'authz', effect: 'deny', reason: `the token lacks ${required}`, scope: required, resource, action: 'POST', tenant_id: tenant });
      throw new OtlpError(other ? 'auth.tenant_denied' : 'auth.scope_denied', `the token lacks the scope ${required}`);
    }
    logDecision({ kind: 'authz', effect: 'allow', reason: `granted by ${TELEMETRY_WRITE_SCOPE}`, scope: tenantScope(TELEMETRY_WRITE_SCOPE, tenant), resource, action: 'POST', tenant_id: tenant });
    const caller = { tenant, subject: principal.subject };
    entry.caller.set(tenantHeader ?? '', caller);
    return caller;
  }
}
