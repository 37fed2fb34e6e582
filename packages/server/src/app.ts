/**
 * The Fastify application: TypeBox type provider, OpenAPI from the route schemas (each route's
 * error answers from the error catalogue, http/openapi.ts), telemetry (server spans and request
 * metrics on the service's own telemetry instance, `/metrics`), authentication, the one
 * error handler — for route, router, not-found and shutdown errors alike — and each feature's
 * routes. Requests are bounded in time (headers, whole request, keep-alive idle, socket
 * inactivity) and in content: the query-string parser and the schema rules of
 * http/safe-schema.ts refuse what the database cannot take before a handler runs.
 */
import type { Tracer } from '@opentelemetry/api';
import Fastify from 'fastify';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { fastifyTelemetry, type Bus, type Logger, type RequestObserver } from '@stellaops/telemetry-core';
import { authentication } from './auth/auth-plugin.js';
import { whoamiRoute } from './auth/whoami-route.js';
import { ROUTE_ACCESS, routeKey } from './auth/scope-catalogue.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import { healthRoutes } from './health/health-routes.js';
import type { Leadership } from './jobs/leadership.js';
import type { ServiceConfig } from './config.js';
import { HTTP_TIMEOUT_DEFAULTS } from './config.js';
import { ServiceError } from './errors.js';
import { errorHandler } from './http/error-handler.js';
import { documentErrors } from './http/openapi.js';
import { parseQueryString } from './http/query-string.js';
import { safeSchemaPlugin } from './http/safe-schema.js';
import { metricsRoute, type MetricsSource } from './self/metrics-route.js';
import type { FeatureRuntime, ServiceApp } from './service-feature.js';
import type { SqlStore } from './store/sql-store.js';

export const SERVICE_NAME = 'stella-observability';
export const SERVICE_VERSION = '0.1.0';

export interface BuildAppOptions {
  logger: Logger;
  verifier: TokenVerifier;
  store: SqlStore;
  bus: Bus;
  /** Whether this replica leads the periodic jobs (`/readyz`). */
  leadership: Leadership;
  features: readonly FeatureRuntime[];
  /** The service's own telemetry: its server spans, request metrics and `/metrics` (self/self-telemetry.ts). */
  telemetry: MetricsSource & { tracer: Tracer; observeRequest: RequestObserver };
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
    // Requests that still arrive while the service closes (pipelined, or on a busy keep-alive
    // connection) get 503 service.shutting_down from the error handler, not Fastify's own body.
    return503OnClosing: false,
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
        description: [
          'Tenant timeline, evidence and observability APIs. Send `Authorization: Bearer <jwt>` and, when the token names several tenants, `X-Stella-Tenant`.',
          '',
          'Every error answer is `{"error_code", "message", "field"?}` (403s add `required_scope` and `tenant`, bounds errors `allowed`). Each operation lists the codes it can answer in `x-error-codes` and, per status, as the enum of `error_code`; docs/errors.md describes every code. 429 and 503 answers carry `Retry-After` (seconds). A path no route serves is 404 `route.not_found`.',
          '',
          'OTLP ingest is not part of this API: the receivers listen on their own ports (OTLP/HTTP `POST /v1/traces|metrics|logs` on 4318, OTLP/gRPC on 4317) and answer refusals as `google.rpc.Status` with `x-stella-error-code`; see docs/install-telemetry-stack.md.',
        ].join('\n'),
      },
      servers: [
        { url: '/', description: 'this service, where this document was read' },
        { url: 'http://{host}:{port}', description: 'the API listener (STELLA_HOST, STELLA_PORT)', variables: { host: { default: '127.0.0.1' }, port: { default: '8080' } } },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  // Every route's error responses come from the catalogue (@fastify/swagger reads the schemas when it builds the document).
  app.addHook('onRoute', documentErrors(ROUTE_ACCESS));
  await app.register(fastifyTelemetry, {
    service: SERVICE_NAME,
    tracer: options.telemetry.tracer,
    observer: options.telemetry.observeRequest,
    ignoreRoutes: ['/healthz', '/readyz', '/metrics'],
  });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Tenant and platform routes refuse work once the service is closing; the probes keep answering until the listener closes.
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.routeOptions.url;
    const kind = url === undefined ? undefined : ROUTE_ACCESS[routeKey(request.method === 'HEAD' ? 'GET' : request.method, url)]?.kind;
    if (closing && (kind === 'tenant' || kind === 'platform')) {
      done(new ServiceError('service.shutting_down', 'the service is shutting down; retry on another replica'));
      return;
    }
    done();
  });
  await app.register(authentication, { verifier: options.verifier });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(async (request) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    throw new ServiceError('route.not_found', `no route ${request.method} ${path}; see /openapi.json`);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  healthRoutes(app, { store: options.store, bus: options.bus, leadership: options.leadership });
  whoamiRoute(app);
  metricsRoute(app, options.telemetry);
  for (const feature of options.features) await feature.routes?.(app);
  return app;
}
