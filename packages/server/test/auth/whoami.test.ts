/** `GET /auth/whoami`: what a verified token grants, for any valid token and no other. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';

let ts: TestService;
beforeAll(async () => {
  ts = await startTestService({ STELLA_OTLP_HTTP_PORT: '0', STELLA_OTLP_GRPC_PORT: '0' });
});
afterAll(() => ts?.stop());

const whoami = (authorization?: string) => ts.service.app.inject({ method: 'GET', url: '/auth/whoami', headers: authorization ? { authorization } : {} });

describe('GET /auth/whoami', () => {
  it('answers the subject, expiry, understood scopes, their tenants and the platform-wide bases', async () => {
    const now = Date.now();
    const token = await ts.token('acme', ['obs:read', 'stella:timeline:read#tenant/globex', 'stella:incident:admin', 'stella:obs:read', 'openid', 'stella:evidence:read#tenant/acme'], {
      subject: 'user:alice',
      ttlSeconds: 600,
      now,
    });
    const res = await whoami(`Bearer ${token}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      subject: 'user:alice',
      expires_at: new Date((Math.floor(now / 1000) + 600) * 1000).toISOString(),
      scopes: ['stella:obs:read#tenant/acme', 'stella:timeline:read#tenant/globex', 'stella:incident:admin', 'stella:obs:read', 'stella:evidence:read#tenant/acme'],
      tenants: ['acme', 'globex'],
      platform_scopes: ['stella:incident:admin', 'stella:obs:read'],
    });
  });

  it('needs no tenant or scope, and ignores X-Stella-Tenant', async () => {
    const token = await ts.token('acme', ['evidence:create']);
    const res = await ts.service.app.inject({ method: 'GET', url: '/auth/whoami', headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': 'globex' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tenants: ['acme'], platform_scopes: [] });
  });

  it('refuses what any route refuses: no token, a malformed or expired one, another authority', async () => {
    expect((await whoami()).json()).toMatchObject({ error_code: 'auth.token_missing' });
    expect((await whoami('Bearer not-a-jwt')).json()).toMatchObject({ error_code: 'auth.token_invalid' });
    const expired = await ts.token('acme', ['obs:read'], { ttlSeconds: 60, now: Date.now() - 3_600_000 });
    const res = await whoami(`Bearer ${expired}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'auth.token_expired' });
    expect(res.headers['www-authenticate']).toContain('auth.token_expired');
  });

  it('is in the API description with the token refusals and nothing about tenants', async () => {
    const doc = (await ts.service.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { operationId: string; 'x-error-codes': string[] }>> }>();
    const op = doc.paths['/auth/whoami']!['get']!;
    expect(op.operationId).toBe('whoAmI');
    expect(op['x-error-codes']).toEqual(expect.arrayContaining(['auth.token_missing', 'auth.token_invalid', 'auth.token_expired', 'auth.authority_unavailable']));
    expect(op['x-error-codes'].filter((c) => c.startsWith('tenant.') || c === 'auth.scope_denied')).toEqual([]);
  });
});
