/**
 * Authentication and authorisation for every route, driven by the scope catalogue. Runs in
 * `onRequest`, before the body is parsed, so unauthenticated callers cost little; the decision
 * itself is `authorize` (authorize.ts), the same one the OTLP receivers make.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { enterRequestContext } from '@stellaops/telemetry-core';
import { authorize, authorizePlatform, TENANT_HEADER, verifyCaller, type AuthContext } from './authorize.js';
import { ROUTE_ACCESS, routeKey, type RouteAccess } from './scope-catalogue.js';
import type { Principal, TokenVerifier } from './token-verifier.js';

export { TENANT_HEADER, type AuthContext };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every tenant-scoped route once the caller is authorised. */
    auth: AuthContext | undefined;
    /**
     * Set on routes open to any valid token (`authenticated` in the catalogue) once the token
     * verifies, and on operators' routes (`platform`) once it also holds a platform-wide scope.
     */
    principal: Principal | undefined;
  }
}

export interface AuthPluginOptions {
  verifier: TokenVerifier;
  /** Route → access rule. Default: the service catalogue. */
  catalogue?: Readonly<Record<string, RouteAccess>>;
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  const catalogue = options.catalogue ?? ROUTE_ACCESS;
  app.decorateRequest('auth', undefined);
  app.decorateRequest('principal', undefined);

  // A route without an access rule is a bug that would ship an unguarded endpoint: refuse to start.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      if (!catalogue[routeKey(method, route.url)]) {
        throw new Error(`route ${routeKey(method, route.url)} has no entry in the scope catalogue (auth/scope-catalogue.ts)`);
      }
    }
  });

  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions.url;
    // Unmatched routes fall through to the 404 handler; HEAD shares its GET rule.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const rule = url === undefined ? undefined : catalogue[routeKey(method, url)];
    if (!rule || rule.kind === 'public') return done();
    if (rule.kind === 'authenticated') {
      verifyCaller(options.verifier, request.headers.authorization, { resource: `${request.method} ${url}`, action: request.method }).then(
        (principal) => {
          request.principal = principal;
          enterRequestContext(request, { actor: principal.subject }, done);
        },
        (error: unknown) => done(error as Error),
      );
      return;
    }
    if (rule.kind === 'platform') {
      // Every tenant at once: no tenant is selected, only a platform-wide scope grants.
      authorizePlatform(options.verifier, request.headers.authorization, { anyOf: rule.anyOf, resource: `${request.method} ${url}`, action: request.method }).then(
        ({ principal }) => {
          request.principal = principal;
          enterRequestContext(request, { actor: principal.subject }, done);
        },
        (error: unknown) => done(error as Error),
      );
      return;
    }
    authorize(options.verifier, { authorization: request.headers.authorization, tenantHeader: request.headers[TENANT_HEADER] }, { anyOf: rule.anyOf, resource: `${request.method} ${url}`, action: request.method }).then(
      (auth) => {
        request.auth = auth;
        enterRequestContext(request, { tenant_id: auth.tenant, actor: auth.principal.subject }, done);
      },
      (error: unknown) => done(error as Error),
    );
  });
}

export const authentication = fp(authPlugin, { name: 'stella-auth' });
