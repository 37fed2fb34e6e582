/**
 * The Fastify application: TypeBox type provider, OpenAPI from the route schemas, telemetry,
 * authentication, the one error handler, and each feature's routes. Requests are bounded in
 * time (headers, whole request, keep-alive idle, socket inactivity) and in content: the
 * query-string parser and the schema rules of http/safe-schema.ts refuse what the database
 * cannot take before a handler runs.
 */
import Fastify from 'fastify';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { fastifyTelemetry, type Bus, type Logger } from '@stellaops/telemetry-core';
import { authentication } from './auth/auth-plugin.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import { healthRoutes } from './health/health-routes.js';
import type { ServiceConfig } from './config.js';
import { HTTP_TIMEOUT_DEFAULTS } from './config.js';
import { errorHandler } from './http/error-handler.js';
import { parseQueryString } from './http/query-string.js';
import { safeSchemaPlugin } from './http/safe-schema.js';
import type { FeatureRuntime, ServiceApp } from './service-feature.js';
import type { SqlStore } from './store/sql-store.js';

export const SERVICE_NAME = 'stella-observability';
export const SERVICE_VERSION = '0.1.0';

export interface BuildAppOptions {
  logger: Logger;
  verifier: TokenVerifier;
  store: SqlStore;
  bus: Bus;
  features: readonly FeatureRuntime[];
  /** Listener timeouts; each defaults to `HTTP_TIMEOUT_DEFAULTS`. */
  http?: Partial<Pick<ServiceConfig, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpConnectionTimeoutMs'>>;
}

export async function buildApp(options: BuildAppOptions): Promise<ServiceApp> {
  const handleError = errorHandler(options.logger);
  const headersTimeout = options.http?.httpHeadersTimeoutMs ?? HTTP_TIMEOUT_DEFAULTS.headersMs;
  const requestTimeout = options.http?.httpRequestTimeoutMs ?? HTTP_TIMEOUT_DEFAULTS.requestMs;
  const keepAliveTimeout = options.http?.httpKeepAliveTimeoutMs ?? HTTP_TIMEOUT_DEFAULTS.keepAliveMs;
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // A client that sends headers slowly, or half a body, is answered 408 and disconnected;
    // Node checks the deadlines every `connectionsCheckingInterval` (30 s unless set).
    requestTimeout,
    keepAliveTimeout,
    connectionTimeout: options.http?.httpConnectionTimeoutMs ?? HTTP_TIMEOUT_DEFAULTS.connectionMs,
    http: {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
    },
    // Values that are not valid percent-encoded UTF-8 reach the schema as lone surrogates.
    routerOptions: { querystringParser: parseQueryString },
    ajv: {
      // Reject what the schema does not declare instead of silently dropping it. With
      // `strictNumbers` ajv skips `maximum` for non-finite numbers — and query coercion turns
      // `1e309` into Infinity — so it is off: every integer has a `maximum` (BoundedInteger).
      customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false, strictNumbers: false },
      plugins: [safeSchemaPlugin],
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Router-level failures (over-long parameters, bad URLs) go through the same error handler.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'StellaOps Observability & Forensics',
        version: SERVICE_VERSION,
        description: 'Tenant timeline, evidence and observability APIs. Send `Authorization: Bearer <jwt>` and, when the token names several tenants, `X-Stella-Tenant`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifyTelemetry, { service: SERVICE_NAME, ignoreRoutes: ['/healthz', '/readyz'] });
  await app.register(authentication, { verifier: options.verifier });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    void reply.code(404).send({ error_code: 'route.not_found', message: `no route ${request.method} ${path}; see /openapi.json` });
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  healthRoutes(app, { store: options.store, bus: options.bus });
  for (const feature of options.features) await feature.routes?.(app);
  return app;
}
