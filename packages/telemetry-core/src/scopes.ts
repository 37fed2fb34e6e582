/**
 * The scope grammar (SPEC AUTH-1), in one place for the service that checks scopes and the
 * `stella` CLI that mints them: `stella:<area>:<action>#tenant/<id>` grants an action on one
 * tenant; `stella:<area>:<action>` without the suffix is platform-wide (operators). The tenant
 * follows the one tenant-id rule. `KNOWN_SCOPE_BASES` is every `stella:<area>:<action>` the
 * service grants access with (a service test keeps it equal to its route catalogue).
 * Like tenant-id.ts this imports nothing else, so `@stellaops/telemetry-core/scopes` is cheap.
 */
import { isValidTenantId } from './tenant-id.js';

/** Every scope base the service knows, sorted. */
export const KNOWN_SCOPE_BASES = [
  'stella:attest:create',
  'stella:attest:read',
  'stella:dora:read',
  'stella:dora:write',
  'stella:evidence:admin',
  'stella:evidence:create',
  'stella:evidence:export',
  'stella:evidence:read',
  'stella:federation:admin',
  'stella:federation:read',
  'stella:incident:admin',
  'stella:obs:read',
  'stella:telemetry:admin',
  'stella:telemetry:write',
  'stella:timeline:admin',
  'stella:timeline:read',
  'stella:timeline:write',
] as const;
export type KnownScopeBase = (typeof KNOWN_SCOPE_BASES)[number];

const KNOWN: ReadonlySet<string> = new Set(KNOWN_SCOPE_BASES);

/** An area or action: a lowercase word (letters, digits, "_" or "-", starting with a letter). */
const WORD = '[a-z][a-z0-9_-]*';
const FULL_SCOPE = new RegExp(`^stella:(${WORD}):(${WORD})(?:#tenant/(.*))?$`, 's');
const SHORT_SCOPE = new RegExp(`^(${WORD}):(${WORD})$`);

export interface Scope {
  readonly area: string;
  readonly action: string;
  /** null for a platform-wide scope. */
  readonly tenant: string | null;
}

/** Parses a full scope (`stella:timeline:read#tenant/acme` or `stella:timeline:read`); undefined when it is not one. */
export function parseScope(raw: string): Scope | undefined {
  const m = FULL_SCOPE.exec(raw);
  if (!m) return undefined;
  const tenant = m[3];
  if (tenant !== undefined && !isValidTenantId(tenant)) return undefined;
  return { area: m[1]!, action: m[2]!, tenant: tenant ?? null };
}

/** Parses the short form `<area>:<action>` (`timeline:read`) that tools bind to a tenant; undefined when it is not one. */
export function parseShortScope(raw: string): { readonly area: string; readonly action: string } | undefined {
  const m = SHORT_SCOPE.exec(raw);
  return m ? { area: m[1]!, action: m[2]! } : undefined;
}

/** `stella:<area>:<action>`: the scope without its tenant. */
export function scopeBase(scope: Pick<Scope, 'area' | 'action'>): string {
  return `stella:${scope.area}:${scope.action}`;
}

/** `stella:timeline:read` + `acme` → `stella:timeline:read#tenant/acme`. */
export function tenantScope(base: string, tenant: string): string {
  return `${base}#tenant/${tenant}`;
}

/** True when `base` (`stella:<area>:<action>`) is one the service grants access with. */
export function isKnownScopeBase(base: string): base is KnownScopeBase {
  return KNOWN.has(base);
}
