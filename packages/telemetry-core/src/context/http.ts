/**
 * Server middleware (Fastify plugin and plain node:http) and an outgoing fetch wrapper.
 * Each incoming request gets a server span `api.<route>` continuing the caller's W3C trace,
 * a request id, and a context that the rest of the request runs in; responses echo
 * `traceparent` and `x-request-id` so a caller can quote them in a support case.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context as otelContext, SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { contextWithFields, currentFields, type TelemetryContext } from './context.js';
import { currentTraceparent, extractTraceContext, injectTraceHeaders } from './propagation.js';
import { openSpan } from './span-scope.js';

/** What observers (metrics, access logs) learn when a request completes. */
export interface RequestCompletion {
  service?: string;
  route: string;
  method: string;
  statusCode: number;
  durationMs: number;
  tenantId?: string;
  traceId: string;
  spanId: string;
  sampled: boolean;
}
export type RequestObserver = (completion: RequestCompletion) => void;
const observers = new Set<RequestObserver>();

/** Called once per completed request by both middlewares; returns an unsubscribe function. */
export function addRequestObserver(observer: RequestObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

function notify(completion: RequestCompletion, own: RequestObserver | undefined): void {
  for (const observer of own ? [own] : observers) {
    try {
      observer(completion);
    } catch {
      // Observers never fail a request.
    }
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
function requestIdFrom(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  return v && REQUEST_ID.test(v) ? v : randomUUID();
}

/** `/policy/evaluate` → `policy.evaluate`; `/timeline/:event_id` → `timeline.{event_id}`. */
export function routeSpanName(route: string): string {
  const trimmed = route.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return 'api.root';
  return `api.${trimmed
    .split('/')
    .map((seg) => (seg.startsWith(':') ? `{${seg.slice(1)}}` : seg))
    .join('.')}`;
}

/** Span names per route pattern, computed once (route patterns are few; plain paths are capped). */
function cachedNames(nameOf: (route: string) => string): (route: string) => string {
  const names = new Map<string, string>();
  return (route) => {
    let name = names.get(route);
    if (name === undefined) {
      name = nameOf(route);
      if (names.size < 1000) names.set(route, name);
    }
    return name;
  };
}

interface RequestTelemetry {
  span: Span;
  ctx: Context;
  start: number;
  route: string;
  method: string;
}

const kTelemetry = Symbol('stellaops.telemetry');
type WithTelemetry = { [kTelemetry]?: RequestTelemetry };

function begin(
  headers: IncomingMessage['headers'],
  method: string,
  route: string,
  spanName: string,
  tracer: Tracer | undefined,
): { state: RequestTelemetry; requestId: string; traceparent: string | undefined } {
  const requestId = requestIdFrom(headers['x-request-id']);
  const parent = extractTraceContext(headers);
  const scope = openSpan(spanName, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': method, 'http.route': route },
    tracer,
  }, parent);
  const ctx = contextWithFields({ request_id: requestId, route, method }, scope.ctx);
  return {
    state: { span: scope.span, ctx, start: performance.now(), route, method },
    requestId,
    traceparent: currentTraceparent(ctx),
  };
}

function finish(state: RequestTelemetry, statusCode: number, service: string | undefined, observer: RequestObserver | undefined, error?: unknown): void {
  const { span } = state;
  span.setAttribute('http.response.status_code', statusCode);
  if (error instanceof Error) span.recordException(error);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${statusCode}` });
  span.end();
  const sc = span.spanContext();
  notify({
    service,
    route: state.route,
    method: state.method,
    statusCode,
    durationMs: performance.now() - state.start,
    tenantId: currentFields(state.ctx).tenant_id,
    traceId: sc.traceId,
    spanId: sc.spanId,
    sampled: (sc.traceFlags & 1) === 1,
  }, observer);
}

/**
 * Adds `fields` (tenant, actor, ...) to a request's context once they are known (e.g. after
 * authentication) and continues the request inside it. Use from a callback-style hook:
 * `fastify.addHook('preHandler', (req, reply, done) => enterRequestContext(req, { tenant_id }, done))`.
 */
export function enterRequestContext(request: FastifyRequest | IncomingMessage, fields: TelemetryContext, next: () => void): void {
  const holder = ((request as { raw?: IncomingMessage }).raw ?? request) as WithTelemetry;
  const state = holder[kTelemetry];
  const ctx = contextWithFields(fields, state?.ctx ?? otelContext.active());
  if (state) state.ctx = ctx;
  // The tenant is usually known only after authentication, i.e. after the server span started.
  if (state && fields.tenant_id) state.span.setAttribute('stella.tenant_id', fields.tenant_id);
  otelContext.with(ctx, next);
}

export interface FastifyTelemetryOptions {
  /** Service name reported to request observers. Default: none. */
  service?: string;
  /** Maps a route pattern to a span name. Default: `routeSpanName`. */
  spanName?: (route: string) => string;
  /** Route patterns that get no span (health probes, metrics scrapes). Default: none. */
  ignoreRoutes?: string[];
  /** Tracer for this app's server spans (a telemetry instance's own, see `createTelemetry`). Default: the global provider's. */
  tracer?: Tracer;
  /**
   * Receives this app's request completions instead of the process-wide observers
   * (`addRequestObserver`), e.g. `handle.observeRequest` of a `createTelemetry` instance.
   * Default: the process-wide observers.
   */
  observer?: RequestObserver;
}

const fastifyTelemetryPlugin: FastifyPluginCallback<FastifyTelemetryOptions> = (fastify, options, done) => {
  const ignore = new Set(options.ignoreRoutes ?? []);
  const nameOf = cachedNames(options.spanName ?? routeSpanName);

  fastify.addHook('onRequest', (request, reply, next) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (ignore.has(route)) return next();
    const configured = (request.routeOptions.config as { telemetryName?: string } | undefined)?.telemetryName;
    const { state, requestId, traceparent } = begin(request.headers, request.method, route, configured ?? nameOf(route), options.tracer);
    (request.raw as WithTelemetry)[kTelemetry] = state;
    reply.header('x-request-id', requestId);
    if (traceparent) reply.header('traceparent', traceparent);
    otelContext.with(state.ctx, next);
  });

  fastify.addHook('onError', (request, _reply, error, next) => {
    const state = (request.raw as WithTelemetry)[kTelemetry];
    if (state) state.span.recordException(error);
    next();
  });

  fastify.addHook('onResponse', (request, reply, next) => {
    const state = (request.raw as WithTelemetry)[kTelemetry];
    if (state) finish(state, reply.statusCode, options.service, options.observer);
    next();
  });

  done();
};

/** Fastify plugin: per-request context, `api.<route>` server span, echoed `traceparent` and `x-request-id`. */
export const fastifyTelemetry = fp(fastifyTelemetryPlugin, { name: '@stellaops/telemetry-core', fastify: '>=4' });

export interface HttpTelemetryOptions {
  service?: string;
  /** Derives the route pattern from a request (keep ids out of it). Default: the path without query. */
  route?: (req: IncomingMessage) => string;
  spanName?: (route: string) => string;
  /** As for `fastifyTelemetry`. */
  tracer?: Tracer;
  /** As for `fastifyTelemetry`. */
  observer?: RequestObserver;
}

/**
 * Plain node:http middleware, connect-style: `mw(req, res, next)`; `next` runs inside the
 * request's context. Works as `http.createServer((req, res) => mw(req, res, () => handler(req, res)))`.
 */
export function httpTelemetry(options: HttpTelemetryOptions = {}): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const routeOf = options.route ?? ((req: IncomingMessage) => (req.url ?? '/').split('?')[0] ?? '/');
  const nameOf = cachedNames(options.spanName ?? routeSpanName);
  return (req, res, next) => {
    const route = routeOf(req);
    const method = req.method ?? 'GET';
    const { state, requestId, traceparent } = begin(req.headers, method, route, nameOf(route), options.tracer);
    (req as WithTelemetry)[kTelemetry] = state;
    res.setHeader('x-request-id', requestId);
    if (traceparent) res.setHeader('traceparent', traceparent);
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      finish(state, res.statusCode, options.service, options.observer);
    };
    res.once('finish', end);
    res.once('close', end);
    otelContext.with(state.ctx, next);
  };
}

/**
 * `fetch` with a client span (`http.client`) and W3C headers injected. Use for every outgoing
 * call between StellaOps services so traces continue across them.
 */
export async function tracedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  const url = new URL(String(input));
  const scope = openSpan('http.client', {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': method, 'server.address': url.hostname, 'url.path': url.pathname },
  });
  const headers = new Headers(init.headers);
  injectTraceHeaders(headers, scope.ctx);
  try {
    const response = await otelContext.with(scope.ctx, () => fetch(url, { ...init, headers }));
    scope.span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 500) scope.span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
    return response;
  } catch (err) {
    scope.span.recordException(err as Error);
    scope.span.setStatus({ code: SpanStatusCode.ERROR, message: 'fetch failed' });
    throw err;
  } finally {
    scope.span.end();
  }
}
