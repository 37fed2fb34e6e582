import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addRequestObserver,
  createLogger,
  currentContext,
  enterRequestContext,
  fastifyTelemetry,
  httpTelemetry,
  routeSpanName,
  tracedFetch,
  type RequestCompletion,
} from '../../src/index.js';
import { captureStream } from '../helpers.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

const apps: FastifyInstance[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('fastifyTelemetry', () => {
  it('carries one trace over real HTTP between two services and echoes traceparent and x-request-id', async () => {
    const out = captureStream();
    const logger = createLogger({ service: 'svc-b', destination: out.stream });

    const b = Fastify();
    await b.register(fastifyTelemetry, { service: 'svc-b' });
    b.get('/policy/:id', async () => {
      logger.info({ resource: 'policy' }, 'evaluating');
      return currentContext();
    });
    const bUrl = await listen(b);

    const a = Fastify();
    await a.register(fastifyTelemetry, { service: 'svc-a' });
    a.get('/evaluate', async () => {
      const res = await tracedFetch(`${bUrl}/policy/p1`);
      return { a: currentContext(), b: await res.json(), bTraceparent: res.headers.get('traceparent') };
    });
    const aUrl = await listen(a);

    const res = await fetch(`${aUrl}/evaluate`, {
      headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, 'x-request-id': 'req-123' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const echoed = res.headers.get('traceparent')!;
    expect(echoed).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

    const body = (await res.json()) as { a: Record<string, string>; b: Record<string, string>; bTraceparent: string };
    expect(body.a.trace_id).toBe(TRACE_ID);
    expect(body.a.parent_span_id).toBe(CALLER_SPAN);
    expect(body.a.span_id).toBe(echoed.split('-')[2]);
    expect(body.a.request_id).toBe('req-123');
    expect(body.a.route).toBe('/evaluate');
    // Service B continues the same trace; its parent is A's client span, not A's server span.
    expect(body.b.trace_id).toBe(TRACE_ID);
    expect(body.b.parent_span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(body.b.parent_span_id).not.toBe(body.a.span_id);
    expect(body.bTraceparent.split('-')[2]).toBe(body.b.span_id);

    const line = out.lines().find((l) => l['msg'] === 'evaluating')!;
    expect(line['trace_id']).toBe(TRACE_ID);
    expect(line['span_id']).toBe(body.b.span_id);
    expect(line['route']).toBe('/policy/:id');
    expect(line['method']).toBe('GET');
  });

  it('starts a new trace when the caller sends none or garbage, and rejects hostile request ids', async () => {
    const app = Fastify();
    await app.register(fastifyTelemetry);
    app.get('/x', async () => currentContext());
    const url = await listen(app);
    const res = await fetch(`${url}/x`, { headers: { traceparent: 'bogus', 'x-request-id': 'a b;<script>' } });
    const ctx = (await res.json()) as Record<string, string>;
    expect(ctx.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(ctx.parent_span_id).toBeUndefined();
    expect(ctx.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBe(ctx.request_id);
  });

  it('lets authentication add tenant and actor to the request context', async () => {
    const completions: RequestCompletion[] = [];
    const stop = addRequestObserver((c) => completions.push(c));
    const app = Fastify();
    await app.register(fastifyTelemetry, { service: 'svc' });
    app.addHook('preHandler', (req, _reply, done) => enterRequestContext(req, { tenant_id: 'acme', actor: 'user:1' }, done));
    app.get('/t', async () => currentContext());
    const url = await listen(app);
    const ctx = (await (await fetch(`${url}/t`)).json()) as Record<string, string>;
    stop();
    expect(ctx.tenant_id).toBe('acme');
    expect(ctx.actor).toBe('user:1');
    const done = completions.find((c) => c.route === '/t')!;
    expect(done).toMatchObject({ service: 'svc', method: 'GET', statusCode: 200, tenantId: 'acme', traceId: ctx.trace_id });
  });
});

describe('httpTelemetry (plain node:http)', () => {
  it('continues the caller trace and echoes headers', async () => {
    const mw = httpTelemetry({ service: 'plain' });
    const server = createServer((req, res) =>
      mw(req, res, () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(currentContext()));
      }),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jobs/run?secret=1`;
    const res = await fetch(url, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00` } });
    const ctx = (await res.json()) as Record<string, string>;
    expect(ctx.trace_id).toBe(TRACE_ID);
    expect(ctx.route).toBe('/jobs/run');
    expect(res.headers.get('traceparent')).toBe(`00-${TRACE_ID}-${ctx.span_id}-00`);
    expect(res.headers.get('x-request-id')).toBe(ctx.request_id);
  });
});

describe('routeSpanName', () => {
  it('follows the api.<route> convention', () => {
    expect(routeSpanName('/policy/evaluate')).toBe('api.policy.evaluate');
    expect(routeSpanName('/timeline/:event_id')).toBe('api.timeline.{event_id}');
    expect(routeSpanName('/')).toBe('api.root');
  });
});
