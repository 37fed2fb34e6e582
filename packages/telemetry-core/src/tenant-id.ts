/**
 * The tenant-id rule, in one place for every StellaOps package: the service (HTTP, OTLP, object
 * keys, the timeline), this library's bus subjects and the `stella` CLI. Tenant ids are bus
 * subject tokens, scope suffixes (`#tenant/<id>`), object-key segments and SQL values, so they
 * hold no `.`, `*`, `>`, `/` or whitespace. `global` is reserved for tenant-free subjects.
 * This module imports nothing, so `@stellaops/telemetry-core/tenant-id` is cheap to load.
 */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The rule in words, for error messages: "<field> must be …". */
export const TENANT_ID_RULE = '1-64 letters, digits, "_" or "-", starting with a letter or digit, and not "global"';

const RESERVED_TENANT_IDS: ReadonlySet<string> = new Set(['global']);

export function isValidTenantId(tenant: unknown): tenant is string {
  return typeof tenant === 'string' && TENANT_ID_PATTERN.test(tenant) && !RESERVED_TENANT_IDS.has(tenant);
}

/** `"<what> must be 1-64 letters, …"`: the one message for a tenant id that breaks the rule. */
export function tenantIdProblem(what: string): string {
  return `${what} must be ${TENANT_ID_RULE}`;
}
