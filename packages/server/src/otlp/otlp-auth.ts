/**
 * Who is sending: the OTLP listeners are outside the Fastify app, so they make the API's access
 * decision here (auth/authorize.ts), with the service's token verifier — tenant from
 * `X-Stella-Tenant` or the token's only tenant, and the scope `stella:telemetry:write` for it —
 * and answer refusals as OTLP errors. A verified token is reused for 30 s (exporters send the
 * same one with every batch, and verifying an ES256 signature per batch would cost more than
 * decoding it), which is within the verifier's own 30 s clock tolerance.
 */
import { grantAccess, verifyCaller } from '../auth/authorize.js';
import type { Principal, TokenVerifier } from '../auth/token-verifier.js';
import { ServiceError } from '../errors.js';
import { OtlpError, toOtlpError } from './otlp-error.js';

export const TELEMETRY_WRITE_SCOPE = 'stella:telemetry:write';

export interface OtlpCaller {
  tenant: string;
  subject: string;
}

export class OtlpAuthenticator {
  // Verified tokens are reused for a short while: exporters send the same token with every batch.
  private readonly cache = new Map<string, { caller: Map<string, OtlpCaller>; expires: number; principal: Principal }>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly clock: () => number = Date.now,
  ) {}

  async authenticate(authorization: string | undefined, tenantHeader: string | undefined, resource: string): Promise<OtlpCaller> {
    const now = this.clock();
    const key = authorization ?? '';
    const rule = { anyOf: [TELEMETRY_WRITE_SCOPE] as const, resource, action: 'POST' };
    let entry = this.cache.get(key);
    if (!entry || entry.expires <= now) {
      let principal: Principal;
      try {
        principal = await verifyCaller(this.verifier, authorization, rule);
      } catch (error) {
        if (error instanceof ServiceError) throw toOtlpError(error);
        throw new OtlpError('otlp.unavailable', 'the token could not be verified right now', 5, { cause: error });
      }
      if (this.cache.size > 1000) this.cache.clear();
      entry = { caller: new Map(), expires: now + 30_000, principal };
      this.cache.set(key, entry);
    }
    const cached = entry.caller.get(tenantHeader ?? '');
    if (cached) return cached;
    let caller: OtlpCaller;
    try {
      const granted = grantAccess(entry.principal, tenantHeader, rule);
      caller = { tenant: granted.tenant, subject: granted.principal.subject };
    } catch (error) {
      throw toOtlpError(error);
    }
    entry.caller.set(tenantHeader ?? '', caller);
    return caller;
  }
}
