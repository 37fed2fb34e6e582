/**
 * What every workload service shares: a Fastify app instrumented only through telemetry-core
 * (`api.<route>` spans continuing the caller's traceparent, request metrics with exemplars,
 * `/metrics`), the request context (tenant, project, actor), the one error handler, and
 * HTTP calls to peers that carry traceparent and the tenant.
 *
 * Workload services sit behind the StellaOps Web API, which authenticates users; they take the
 * tenant from `X-Stella-Tenant` and authenticate themselves to the Observability & Forensics
 * service with their own service token, which is where tenant scopes are enforced.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createLogger, enterRequestContext, fastifyMetrics, fastifyTelemetry, isValidTenantId, tracedFetch, currentContext, type Logger } from '@stellaops/telemetry-core';
import { WorkloadError } from '../formats/errors.js';
import { StellaClient } from './stella-client.js';
import type { WorkloadConfig, WorkloadServiceName } from './workload-config.js';

export const WORKLOAD_VERSION = '0.1.0';

export interface WorkloadRuntime {
  config: WorkloadConfig;
  logger: Logger;
  stella: StellaClient;
  /** Calls a peer over HTTP with traceparent, tenant, project and actor; throws `upstream.failed` on a non-2xx answer. */
  call<T>(peer: WorkloadServiceName, path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** GET a peer's answer as text, byte for byte (documents whose digests must hold). */
  callText(peer: WorkloadServiceName, path: string): Promise<string>;
}

export function createRuntime(config: WorkloadConfig, logger?: Logger): WorkloadRuntime {
  const log =
    logger ??
    createLogger({ service: config.service, version: WORKLOAD_VERSION, env: config.env ?? 'demo', level: 'info' });
  const stella = new StellaClient({ baseUrl: config.stellaUrl, token: config.serviceToken, logger: log });
  const peerHeaders = (): Record<string, string> => {
    const ctx = currentContext();
    return {
      ...(ctx.tenant_id ? { 'x-stella-tenant': ctx.tenant_id } : {}),
      ...(ctx.project_id ? { 'x-stella-project': ctx.project_id } : {}),
      ...(ctx.actor ? { 'x-stella-actor': ctx.actor } : {}),
    };
  };
  return {
    config,
    logger: log,
    stella,
    async callText(peer: WorkloadServiceName, path: string): Promise<string> {
      const res = await tracedFetch(`${config.peers[peer]}${path}`, { headers: peerHeaders() });
      const text = await res.text();
      if (!res.ok) throw new WorkloadError('upstream.failed', `${peer} ${path} answered ${res.status}`, { cause: Object.assign(new Error(text.slice(0, 200)), { code: `http.${res.status}` }) });
      return text;
    },
    async call<T>(peer: WorkloadServiceName, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const headers = peerHeaders();
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const res = await tracedFetch(`${config.peers[peer]}${path}`, {
        method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
        headers,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await res.text();
      const body = text ? (JSON.parse(text) as unknown) : undefined;
      if (!res.ok) {
        const e = (body ?? {}) as { error_code?: string; message?: string };
        throw new WorkloadError('upstream.failed', `${peer} ${path} answered ${res.status} ${e.error_code ?? ''}: ${e.message ?? ''}`.trim(), {
          cause: Object.assign(new Error(e.message ?? `HTTP ${res.status}`), { code: e.error_code ?? `http.${res.status}`, status: res.status }),
        });
      }
      return body as T;
    },
  };
}

const ACTOR = /^(user|svc):[A-Za-z0-9._-]{1,64}$/;
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The upstream error code a WorkloadError wraps (so a job failure names the root cause, not "upstream.failed"). */
export function rootErrorCode(err: unknown): string {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  let code = typeof e?.code === 'string' ? e.code : 'internal';
  while (e && e.cause) {
    e = e.cause as typeof e;
    if (typeof e?.code === 'string') code = e.code;
  }
  return code;
}

export async function createWorkloadApp(runtime: WorkloadRuntime): Promise<FastifyInstance> {
  const { config, logger } = runtime;
  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
  await app.register(fastifyTelemetry, { service: config.service, ignoreRoutes: ['/metrics', '/healthz'] });
  await app.register(fastifyMetrics);
  app.get('/healthz', async () => ({ status: 'ok', service: config.service }));

  app.addHook('preHandler', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route === '/metrics' || route === '/healthz') return done();
    const tenant = request.headers['x-stella-tenant'];
    if (typeof tenant !== 'string' || !isValidTenantId(tenant)) {
      return done(new WorkloadError('request.tenant_required', 'send X-Stella-Tenant with a valid tenant id (letters, digits, "_" or "-")', { field: 'headers.x-stella-tenant' }));
    }
    const project = request.headers['x-stella-project'];
    const actor = request.headers['x-stella-actor'];
    enterRequestContext(
      request,
      {
        tenant_id: tenant,
        ...(typeof project === 'string' && PROJECT.test(project) ? { project_id: project } : {}),
        actor: typeof actor === 'string' && ACTOR.test(actor) ? actor : `svc:${config.service}`,
      },
      done,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof WorkloadError) {
      const level = error.status >= 500 ? 'error' : 'warn';
      logger[level]({ err: error, route: request.routeOptions.url, error_code: rootErrorCode(error) }, `${request.method} ${request.routeOptions.url ?? ''} refused`);
      return reply.code(error.status).send({ error_code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), cause_code: rootErrorCode(error) });
    }
    const fe = error as { statusCode?: number; code?: string; message?: string };
    if (fe.statusCode && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ error_code: 'request.invalid', message: fe.message ?? 'bad request' });
    }
    logger.error({ err: error }, 'unexpected failure');
    return reply.code(500).send({ error_code: 'internal', message: 'unexpected failure; quote the traceparent response header in a support case' });
  });
  return app;
}
