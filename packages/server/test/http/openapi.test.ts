/**
 * `/openapi.json` tells the truth about every route: an operationId, a described success
 * response (binary downloads as `type: string, format: binary`), and per error status the codes
 * the route can answer — all of them catalogue codes with that status, `Retry-After` where they
 * are retryable — and the answers the service actually gives are among the codes it declares.
 * Also: requests that still arrive while the service closes are answered 503
 * `service.shutting_down`, and a path no route serves 404 `route.not_found`.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../src/auth/scope-catalogue.js';
import { ERRORS, isErrorCode, isResponseCode, type ResponseSpec } from '../../src/errors.js';
import { COMMON_ERROR_CODES } from '../../src/http/openapi.js';
import { startTestService, type TestService } from '../helpers/service.js';

interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
}
interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  operationId?: string;
  'x-error-codes'?: string[];
  responses: Record<string, Response>;
}
interface Doc {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const TENANT = 'acme';
const OTLP_PORTS = { STELLA_OTLP_HTTP_PORT: '0', STELLA_OTLP_GRPC_PORT: '0' };

describe('the OpenAPI document', () => {
  let ts: TestService;
  let doc: Doc;
  let token: string;
  const operations: { key: string; path: string; method: string; op: Operation }[] = [];

  beforeAll(async () => {
    ts = await startTestService(OTLP_PORTS);
    doc = (await ts.service.app.inject({ url: '/openapi.json' })).json<Doc>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) operations.push({ key: `${method.toUpperCase()} ${path}`, path, method, op });
    }
    const scopes = ['timeline:read', 'timeline:write', 'timeline:admin', 'obs:read', 'evidence:read', 'evidence:admin', 'incident:admin'].map((s) => `stella:${s}#tenant/${TENANT}`);
    token = await ts.token(TENANT, scopes);
  }, 60_000);
  afterAll(() => ts?.stop());

  it('documents every route of the scope catalogue, with servers', () => {
    // `:name` is `{name}`; a wildcard (`/files/*`) is the parameter `*`: `{*}`.
    const fastifyPath = (key: string) => key.replace(/:([a-z_]+)/g, '{$1}').replace(/\/\*$/, '/{*}');
    const routes = Object.entries(ROUTE_ACCESS)
      .filter(([, access]) => !(access.kind === 'public' && access.api === false))
      .map(([key]) => fastifyPath(key));
    expect(operations.map((o) => o.key).sort()).toEqual(routes.sort());
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it('gives every route a unique operationId and a described success response', () => {
    const ids = operations.map((o) => o.op.operationId);
    expect(operations.filter((o) => !o.op.operationId).map((o) => o.key)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { key, op } of operations) {
      const success = Object.entries(op.responses).filter(([status]) => ['200', '201', '202', '204'].includes(status));
      expect(success.length, key).toBeGreaterThan(0);
      for (const [status, response] of success) expect({ key, status, description: response.description }).not.toMatchObject({ description: 'Default Response' });
      for (const [, response] of success) expect(response.description, key).toBeTruthy();
    }
  });

  it('describes binary downloads as binary', () => {
    const binary = (path: string, type: string) => doc.paths[path]!['get']!.responses['200']!.content?.[type]?.schema;
    expect(binary('/evidence/{bundle_id}/archive', 'application/x-tar')).toEqual({ type: 'string', format: 'binary' });
    expect(binary('/telemetry/exports/forensic/{window}', 'application/gzip')).toEqual({ type: 'string', format: 'binary' });
  });

  it('lists per error status only catalogue codes of that status, Retry-After where retryable, and x-error-codes as their union', () => {
    for (const { key, op } of operations) {
      const declared = op['x-error-codes'] ?? [];
      expect(declared.length, key).toBeGreaterThan(0);
      const listed: string[] = [];
      for (const [status, response] of Object.entries(op.responses)) {
        const schema = response.content?.['application/json']?.schema;
        const codes = schema?.properties?.['error_code']?.enum;
        if (Number(status) < 400 || !codes) continue;
        for (const code of codes) {
          expect(isErrorCode(code) && isResponseCode(code), `${key} ${status} ${String(code)}`).toBe(true);
          const spec = ERRORS[code as keyof typeof ERRORS] as ResponseSpec;
          expect({ key, code, status: spec.http }).toEqual({ key, code, status: Number(status) });
          listed.push(code as string);
        }
        if (codes.some((c) => (ERRORS[c as keyof typeof ERRORS] as ResponseSpec).retryable)) expect(response.headers?.['Retry-After'], `${key} ${status}`).toBeDefined();
        if (status === '401') expect(response.headers?.['WWW-Authenticate'], key).toBeDefined();
        expect(response.description, `${key} ${status}`).toContain(String(codes[0]));
      }
      expect(listed.sort(), key).toEqual([...declared].sort());
      // The codes every route of its kind answers are there.
      const kind = ROUTE_ACCESS[key.replace(/\{([a-z_]+)\}/g, ':$1').replace(/\/\{\*\}$/, '/*')]?.kind;
      const common: readonly string[] = [...COMMON_ERROR_CODES.every, ...(kind === 'public' || kind === undefined ? [] : COMMON_ERROR_CODES[kind])];
      for (const code of common) expect(declared, key).toContain(code);
    }
  });

  it("answers with codes the route declares", async () => {
    const declared = (key: string) => operations.find((o) => o.key === key)!.op['x-error-codes'];
    const auth = { authorization: `Bearer ${token}` };
    const cases: { key: string; method: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; body?: unknown; headers?: Record<string, string>; code: string }[] = [
      { key: 'GET /timeline', method: 'GET', url: '/timeline?limit=5000', code: 'timeline.limit_too_large' },
      { key: 'GET /timeline', method: 'GET', url: '/timeline?cursor=nope', code: 'timeline.cursor_invalid' },
      { key: 'GET /timeline/{event_id}', method: 'GET', url: '/timeline/0196a3b4-0000-7000-8000-000000000000', code: 'timeline.not_found' },
      { key: 'GET /timeline/{event_id}/context', method: 'GET', url: '/timeline/0196a3b4-0000-7000-8000-000000000000/context', code: 'timeline.not_found' },
      { key: 'DELETE /timeline/filters/{name}', method: 'DELETE', url: '/timeline/filters/none', code: 'timeline.filter_not_found' },
      { key: 'PUT /timeline/retention', method: 'PUT', url: '/timeline/retention', body: { retention_days: 1 }, code: 'retention.out_of_bounds' },
      { key: 'GET /obs/trace/{trace_id}', method: 'GET', url: `/obs/trace/${'0'.repeat(32)}`, code: 'obs.trace_id_invalid' },
      { key: 'GET /obs/logs', method: 'GET', url: '/obs/logs?from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z', code: 'obs.window_too_wide' },
      { key: 'POST /telemetry/incidents/mode', method: 'POST', url: '/telemetry/incidents/mode', body: { tenant: 'globex', state: 'on' }, code: 'incident.tenant_mismatch' },
      { key: 'POST /telemetry/incidents/mode', method: 'POST', url: '/telemetry/incidents/mode', body: { state: 'off' }, code: 'incident.not_active' },
      { key: 'GET /evidence/{bundle_id}', method: 'GET', url: '/evidence/no-such-bundle', code: 'evidence.not_found' },
      { key: 'GET /evidence/{bundle_id}/files/{*}', method: 'GET', url: '/evidence/no-such-bundle/files/sbom/a.json', code: 'evidence.not_found' },
      { key: 'DELETE /evidence/{bundle_id}', method: 'DELETE', url: '/evidence/no-such-bundle', code: 'evidence.not_found' },
      { key: 'PUT /evidence/retention', method: 'PUT', url: '/evidence/retention', body: { retention_days: 5 }, code: 'retention.out_of_bounds' },
      { key: 'GET /custody/{resource_type}/{resource_id}', method: 'GET', url: '/custody/sbom/none', code: 'custody.not_found' },
      { key: 'GET /obs/health', method: 'GET', url: '/obs/health', headers: {}, code: 'auth.token_missing' },
      // A tenant-bound stella:obs:read does not grant the operators' view over every tenant.
      { key: 'GET /obs/tenants', method: 'GET', url: '/obs/tenants', code: 'auth.scope_denied' },
      { key: 'GET /obs/health', method: 'GET', url: '/obs/health', headers: { ...auth, 'x-stella-tenant': 'bad tenant' }, code: 'tenant.invalid' },
      { key: 'POST /timeline/events', method: 'POST', url: '/timeline/events', body: '<events/>', headers: { ...auth, 'content-type': 'application/xml' }, code: 'request.unsupported_media_type' },
    ];
    for (const c of cases) {
      const res = await ts.service.app.inject({ method: c.method, url: c.url, headers: c.headers ?? auth, ...(c.body === undefined ? {} : typeof c.body === 'string' ? { payload: c.body } : { payload: c.body as object }) });
      const code = res.json<{ error_code: string }>().error_code;
      expect({ case: c.url, code }).toEqual({ case: c.url, code: c.code });
      expect(declared(c.key), `${c.key} declares ${code}`).toContain(code);
    }
  });

  it('answers a path no route serves with 404 route.not_found', async () => {
    const res = await ts.service.app.inject({ url: '/no/such/route?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error_code: 'route.not_found', message: 'no route GET /no/such/route; see /openapi.json' });
  });
});

describe('a service that is closing', () => {
  it('answers requests that still arrive on an open connection with 503 service.shutting_down, Retry-After and Connection: close', async () => {
    const ts = await startTestService(OTLP_PORTS);
    try {
      const token = await ts.token(TENANT, [`stella:timeline:read#tenant/${TENANT}`, `stella:timeline:write#tenant/${TENANT}`]);
      const port = Number(new URL(await ts.service.listen()).port);
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
      await new Promise((resolve) => socket.once('connect', resolve));
      // A request in flight (its body half sent) keeps the connection busy while the service starts closing...
      const body = JSON.stringify({ events: [{ kind: 'demo.started' }] });
      socket.write(`POST /timeline/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closed = ts.service.app.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // ...which finishes it, then reads the next request pipelined behind it.
      socket.write(`${body.slice(5)}GET /timeline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await new Promise((resolve) => socket.once('close', resolve));
      await closed;
      const answers = received.split(/(?=HTTP\/1\.1 )/);
      expect(answers.map((a) => a.split('\r\n')[0])).toEqual(['HTTP/1.1 202 Accepted', 'HTTP/1.1 503 Service Unavailable']);
      const last = answers[1]!;
      expect(last).toMatch(/\r\nretry-after: 5\r\n/i);
      expect(last).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(last.slice(last.indexOf('\r\n\r\n') + 4))).toEqual({ error_code: 'service.shutting_down', message: 'the service is shutting down; retry on another replica' });
    } finally {
      await ts.stop();
    }
  }, 60_000);
});
