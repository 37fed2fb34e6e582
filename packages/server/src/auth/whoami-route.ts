/**
 * `GET /auth/whoami`: what a verified token grants — its subject, expiry, the scopes the service
 * understands, the tenants they name and which of them are platform-wide. Open to any valid
 * token (no tenant is selected), so a client can check a token before using it and offer only
 * the tenants it may act on (the Console's sign-in and tenant switcher). It tells the caller
 * nothing the token does not already carry; it proves that the service accepts it.
 */
import { Type } from 'typebox';
import { described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import { parseScope, scopeBase } from '@stellaops/telemetry-core/scopes';

const WhoAmIResponse = Type.Object({
  subject: Type.String({ description: 'the `sub` claim' }),
  expires_at: Type.String({ description: 'the `exp` claim, RFC 3339' }),
  scopes: Type.Array(Type.String(), { description: 'the scopes of the token the service understands, as written in it' }),
  tenants: Type.Array(Type.String(), { description: 'the tenants its tenant-bound scopes name, sorted' }),
  platform_scopes: Type.Array(Type.String(), { description: 'scope bases granted platform-wide (on every tenant), sorted' }),
});

export function whoamiRoute(app: ServiceApp): void {
  app.get(
    '/auth/whoami',
    {
      schema: {
        operationId: 'whoAmI',
        summary: 'What the presented token grants: subject, expiry, scopes, tenants',
        tags: ['auth'],
        response: { 200: described('The verified token: who it speaks for, until when, and what it grants on which tenants', WhoAmIResponse) },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const understood = principal.rawScopes.flatMap((raw) => {
        const scope = parseScope(raw);
        return scope ? [{ raw, scope }] : [];
      });
      return {
        subject: principal.subject,
        expires_at: new Date(principal.expiresAtMs).toISOString(),
        scopes: understood.map((u) => u.raw),
        tenants: principal.scopes.tenants(),
        platform_scopes: [...new Set(understood.filter((u) => u.scope.tenant === null).map((u) => scopeBase(u.scope)))].sort(),
      };
    },
  );
}
