/**
 * The signed-in session: the access token and the selected tenant, kept in the tab's
 * sessionStorage (gone when the tab closes, never shared with other tabs, never in a URL), and
 * the rules for what a token grants — read from the service's `GET /auth/whoami`, which also
 * proves the service accepts the token.
 */
import type { WhoAmI } from '../api/api-types.js';

/** The part of the Web Storage API the session uses (sessionStorage in the browser). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const TOKEN_KEY = 'stellaops.console.token';
export const TENANT_KEY = 'stellaops.console.tenant';

/** The service's tenant-id rule (telemetry-core's tenant-id.ts): 1-64 letters, digits, "_" or "-", starting with a letter or digit, not "global". */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function isTenantId(value: string): boolean {
  return TENANT_ID.test(value) && value !== 'global';
}

export type TokenInput = { ok: true; token: string } | { ok: false; problem: string };

/**
 * The token in what was pasted: surrounding space, line breaks from a wrapped terminal and a
 * leading `Bearer ` are dropped; what is left must be a compact JWT.
 */
export function readTokenInput(input: string): TokenInput {
  const token = input.replace(/^\s*Bearer\s+/i, '').replace(/\s+/g, '');
  if (token === '') return { ok: false, problem: 'Paste an access token first.' };
  if (!COMPACT_JWS.test(token)) {
    return { ok: false, problem: 'That is not an access token: a token is a JWT, three base64url parts separated by dots (stella auth token prints one).' };
  }
  return { ok: true, token };
}

/** The tenants a token lets its holder pick: those its scopes name, and any tenant when it holds platform-wide scopes. */
export function tenantChoices(who: WhoAmI): { tenants: string[]; anyTenant: boolean } {
  return { tenants: [...who.tenants].sort(), anyTenant: who.platform_scopes.length > 0 };
}

/** The tenant to show: the remembered one while the token still grants it, else the token's first tenant. */
export function chooseTenant(who: WhoAmI, remembered: string | undefined): string | undefined {
  const { tenants, anyTenant } = tenantChoices(who);
  if (remembered !== undefined && (tenants.includes(remembered) || (anyTenant && isTenantId(remembered)))) return remembered;
  return tenants[0];
}

/** The scope bases (`stella:obs:read`) the token grants on `tenant`, its own and platform-wide. */
export function grantedOn(who: WhoAmI, tenant: string): string[] {
  const bases = new Set(who.platform_scopes);
  for (const scope of who.scopes) {
    const hash = scope.indexOf('#tenant/');
    if (hash > 0 && scope.slice(hash + '#tenant/'.length) === tenant) bases.add(scope.slice(0, hash));
  }
  return [...bases].sort();
}

/** Milliseconds until the token expires (negative once it has). */
export function expiresInMs(who: WhoAmI, now: number): number {
  return Date.parse(who.expires_at) - now;
}

/** The token and tenant of this tab. */
export class SessionStore {
  constructor(private readonly storage: KeyValueStore) {}

  token(): string | undefined {
    return this.storage.getItem(TOKEN_KEY) ?? undefined;
  }

  tenant(): string | undefined {
    return this.storage.getItem(TENANT_KEY) ?? undefined;
  }

  signIn(token: string): void {
    this.storage.setItem(TOKEN_KEY, token);
  }

  selectTenant(tenant: string | undefined): void {
    if (tenant === undefined) this.storage.removeItem(TENANT_KEY);
    else this.storage.setItem(TENANT_KEY, tenant);
  }

  /** Forgets the token; the tenant stays as the preference of the next sign-in in this tab. */
  signOut(): void {
    this.storage.removeItem(TOKEN_KEY);
  }
}
