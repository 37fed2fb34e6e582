/** The signed-in session: what a pasted token becomes, where it is kept, and which tenants a token lets its holder pick. */
import { describe, expect, it } from 'vitest';
import type { WhoAmI } from '../src/api/api-types.js';
import { chooseTenant, expiresInMs, grantedOn, isTenantId, readTokenInput, SessionStore, TENANT_KEY, TOKEN_KEY, tenantChoices, type KeyValueStore } from '../src/session/session.js';

function memoryStore(): KeyValueStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) };
}

/** A compact JWS of random parts, made here: it only has to look like one. */
function fakeJws(): string {
  const part = () => Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
  return `${part()}.${part()}.${part()}`;
}

const who = (over: Partial<WhoAmI> = {}): WhoAmI => ({ subject: 'user:alice', expires_at: '2030-01-01T00:00:00.000Z', scopes: [], tenants: [], platform_scopes: [], ...over });

describe('reading a pasted token', () => {
  it('keeps a compact JWT, dropping surrounding space, line breaks of a wrapped terminal and a leading Bearer', () => {
    const token = fakeJws();
    expect(readTokenInput(token)).toEqual({ ok: true, token });
    expect(readTokenInput(`  Bearer ${token}\n`)).toEqual({ ok: true, token });
    expect(readTokenInput(`${token.slice(0, 20)}\n${token.slice(20)}`)).toEqual({ ok: true, token });
  });

  it('says what is wrong with anything else', () => {
    expect(readTokenInput('   ')).toMatchObject({ ok: false, problem: expect.stringMatching(/Paste an access token/) });
    for (const bad of ['hunter2', 'a.b', 'a.b.c.d', 'a.b.c=', '{"alg":"none"}.x.y']) {
      expect(readTokenInput(bad), bad).toMatchObject({ ok: false, problem: expect.stringMatching(/JWT/) });
    }
  });
});

describe('the session store', () => {
  it('keeps the token and the tenant under their keys, and forgets the token on sign-out but not the tenant', () => {
    const storage = memoryStore();
    const session = new SessionStore(storage);
    expect(session.token()).toBeUndefined();
    const token = fakeJws();
    session.signIn(token);
    session.selectTenant('acme');
    expect(storage.items).toEqual(new Map([[TOKEN_KEY, token], [TENANT_KEY, 'acme']]));
    expect(new SessionStore(storage).token()).toBe(token);
    session.signOut();
    expect(session.token()).toBeUndefined();
    expect(session.tenant()).toBe('acme');
    session.selectTenant(undefined);
    expect(storage.items.size).toBe(0);
  });
});

describe('tenants', () => {
  it('offers the tenants the token names, sorted, and any tenant only with platform-wide scopes', () => {
    expect(tenantChoices(who({ tenants: ['globex', 'acme'] }))).toEqual({ tenants: ['acme', 'globex'], anyTenant: false });
    expect(tenantChoices(who({ tenants: [], platform_scopes: ['stella:obs:read'] }))).toEqual({ tenants: [], anyTenant: true });
  });

  it('keeps the remembered tenant while the token grants it, else takes the first', () => {
    const two = who({ tenants: ['acme', 'globex'] });
    expect(chooseTenant(two, 'globex')).toBe('globex');
    expect(chooseTenant(two, 'initech')).toBe('acme');
    expect(chooseTenant(two, undefined)).toBe('acme');
    expect(chooseTenant(who(), 'acme')).toBeUndefined();
    const operator = who({ tenants: ['acme'], platform_scopes: ['stella:obs:read'] });
    expect(chooseTenant(operator, 'initech')).toBe('initech');
    expect(chooseTenant(operator, 'no/such')).toBe('acme');
    expect(chooseTenant(who({ platform_scopes: ['stella:obs:read'] }), undefined)).toBeUndefined();
  });

  it("checks tenant ids with the service's rule", () => {
    for (const ok of ['acme', 'a', 'A-1_b', 'x'.repeat(64)]) expect(isTenantId(ok), ok).toBe(true);
    for (const bad of ['', '-acme', 'a.b', 'a b', 'a/b', 'x'.repeat(65), 'global']) expect(isTenantId(bad), bad).toBe(false);
  });

  it('lists what the token grants on a tenant, its own scopes and platform-wide ones', () => {
    const w = who({
      scopes: ['stella:obs:read#tenant/acme', 'stella:timeline:read#tenant/globex', 'stella:evidence:read#tenant/acme', 'stella:incident:admin'],
      tenants: ['acme', 'globex'],
      platform_scopes: ['stella:incident:admin'],
    });
    expect(grantedOn(w, 'acme')).toEqual(['stella:evidence:read', 'stella:incident:admin', 'stella:obs:read']);
    expect(grantedOn(w, 'globex')).toEqual(['stella:incident:admin', 'stella:timeline:read']);
  });

  it('tells how long the token has left', () => {
    expect(expiresInMs(who({ expires_at: '2030-01-01T00:01:00.000Z' }), Date.parse('2030-01-01T00:00:00.000Z'))).toBe(60_000);
    expect(expiresInMs(who({ expires_at: '2030-01-01T00:00:00.000Z' }), Date.parse('2030-01-01T00:00:01.000Z'))).toBe(-1000);
  });
});
