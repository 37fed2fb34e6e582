/**
 * Scopes (SPEC AUTH-1): `stella:<area>:<action>#tenant/<id>` grants an action on one tenant;
 * `stella:<area>:<action>` without the suffix is platform-wide (operators) and grants it on
 * every tenant. The grammar is telemetry-core's, shared with the `stella` CLI that mints
 * tokens. Anything else in a token is ignored, never guessed at.
 */
import { parseScope, tenantScope, type Scope } from '@stellaops/telemetry-core/scopes';

export { parseScope, tenantScope };
export type { Scope };

export class ScopeSet {
  private readonly scopes: Scope[];

  constructor(raw: readonly string[]) {
    this.scopes = raw.map(parseScope).filter((s): s is Scope => s !== undefined);
  }

  /** True when `base` (`stella:<area>:<action>`) is granted for `tenant`, or platform-wide. */
  grants(base: string, tenant: string): boolean {
    const want = parseScope(base);
    if (!want) return false;
    return this.scopes.some((s) => s.area === want.area && s.action === want.action && (s.tenant === null || s.tenant === tenant));
  }

  /** True when `base` is granted platform-wide (without a `#tenant/<id>` suffix). */
  grantsPlatform(base: string): boolean {
    const want = parseScope(base);
    return !!want && this.scopes.some((s) => s.area === want.area && s.action === want.action && s.tenant === null);
  }

  /** True when `base` is granted for some tenant (used to tell a wrong tenant from a missing scope). */
  grantsAnyTenant(base: string): boolean {
    const want = parseScope(base);
    return !!want && this.scopes.some((s) => s.area === want.area && s.action === want.action);
  }

  /** The distinct tenants the token's tenant-bound scopes name. */
  tenants(): string[] {
    return [...new Set(this.scopes.map((s) => s.tenant).filter((t): t is string => t !== null))].sort();
  }
}
