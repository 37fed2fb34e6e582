/**
 * Scopes (SPEC AUTH-1): `stella:<area>:<action>#tenant/<id>` grants an action on one tenant;
 * `stella:<area>:<action>` without the suffix is platform-wide (operators) and grants it on
 * every tenant. Anything else in a token is ignored, never guessed at.
 */
const SCOPE_RE = /^stella:([a-z][a-z0-9_-]*):([a-z][a-z0-9_-]*)(?:#tenant\/([A-Za-z0-9][A-Za-z0-9_-]{0,63}))?$/;

export interface Scope {
  area: string;
  action: string;
  /** null for a platform-wide scope. */
  tenant: string | null;
}

export function parseScope(raw: string): Scope | undefined {
  const m = SCOPE_RE.exec(raw);
  if (!m) return undefined;
  return { area: m[1]!, action: m[2]!, tenant: m[3] ?? null };
}

/** `stella:timeline:read` + `acme` → `stella:timeline:read#tenant/acme`. */
export function tenantScope(base: string, tenant: string): string {
  return `${base}#tenant/${tenant}`;
}

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
