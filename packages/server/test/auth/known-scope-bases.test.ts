/**
 * The scope bases the `stella` CLI accepts when it mints a token (telemetry-core's
 * KNOWN_SCOPE_BASES) are exactly those the service's route catalogue grants access with, so a
 * new scope cannot be served without the CLI knowing it, nor the CLI offer one nothing checks.
 */
import { describe, expect, it } from 'vitest';
import { KNOWN_SCOPE_BASES, parseScope } from '@stellaops/telemetry-core/scopes';
import { ROUTE_ACCESS, SCOPE_VOCABULARY } from '../../src/auth/scope-catalogue.js';
import { ScopeSet } from '../../src/auth/scopes.js';

const catalogueBases = (): string[] => [...new Set(Object.values(ROUTE_ACCESS).flatMap((rule) => (rule.kind === 'tenant' || rule.kind === 'platform' ? [...rule.anyOf] : [])))].sort();

describe('known scope bases', () => {
  it('equal the scope bases of the route catalogue', () => {
    expect([...KNOWN_SCOPE_BASES].sort()).toEqual(catalogueBases());
  });

  it('each has a line in the scope vocabulary (what it grants)', () => {
    expect(KNOWN_SCOPE_BASES.filter((base) => !SCOPE_VOCABULARY[base])).toEqual([]);
  });

  it('parse as platform-wide scopes of the shared grammar', () => {
    for (const base of KNOWN_SCOPE_BASES) expect(parseScope(base), base).toMatchObject({ tenant: null });
  });
});

describe('ScopeSet (the shared grammar)', () => {
  it('grants tenant-bound and platform-wide scopes, and ignores what is not a scope', () => {
    const set = new ScopeSet(['stella:timeline:read#tenant/acme', 'stella:evidence:admin', 'timeline:write', 'stella:obs:read#tenant/a.b', 'stella:obs:read#tenant/global']);
    expect(set.grants('stella:timeline:read', 'acme')).toBe(true);
    expect(set.grants('stella:timeline:read', 'other')).toBe(false);
    expect(set.grants('stella:evidence:admin', 'anyone')).toBe(true);
    expect(set.grants('stella:timeline:write', 'acme')).toBe(false);
    expect(set.grantsAnyTenant('stella:obs:read')).toBe(false);
    // Platform-wide only without a tenant suffix.
    expect(set.grantsPlatform('stella:evidence:admin')).toBe(true);
    expect(set.grantsPlatform('stella:timeline:read')).toBe(false);
    expect(set.tenants()).toEqual(['acme']);
  });
});
