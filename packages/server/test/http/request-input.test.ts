/**
 * No request input becomes a 500: NUL, control characters, lone surrogates and invalid UTF-8
 * in every string query and path parameter of every GET route (found in /openapi.json, so new
 * routes are covered), non-finite and out-of-range integers, and unsafe strings anywhere in
 * JSON bodies are all a 400 `request.invalid` naming the field — on the embedded engine and on
 * PostgreSQL, since each refuses such values at the database with its own error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailable } from '../helpers/external.js';
import { startTestService, type TestService } from '../helpers/service.js';

const pgUp = await postgresAvailable();

const OTLP_PORTS = { STELLA_OTLP_HTTP_PORT: '0', STELLA_OTLP_GRPC_PORT: '0' };
const SCOPES = [
  'timeline:read',
  'timeline:write',
  'timeline:admin',
  'obs:read',
  'evidence:read',
  'evidence:create',
  'evidence:export',
  'evidence:admin',
  'attest:read',
  'attest:create',
  'incident:admin',
  'telemetry:admin',
  'dora:read',
  'dora:write',
  'federation:read',
  'federation:admin',
];

interface Engine {
  name: string;
  available: boolean;
  start(): Promise<{ ts: TestService; cleanup(): Promise<void> }>;
}

const engines: Engine[] = [
  { name: 'embedded PGlite', available: true, start: async () => ({ ts: await startTestService(OTLP_PORTS), cleanup: async () => undefined }) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    start: async () => {
      const db = await createTestDatabase();
      try {
        const ts = await startTestService({ ...OTLP_PORTS, STELLA_DATABASE_URL: db.appUrl, STELLA_DATABASE_OWNER_URL: db.ownerUrl, STELLA_DATABASE_APP_ROLE: db.appRole });
        return { ts, cleanup: () => db.drop() };
      } catch (error) {
        await db.drop();
        throw error;
      }
    },
  },
];

/** A value each path parameter accepts, so a route is reached while another parameter is probed. */
const PATH_SAMPLES: Record<string, string> = {
  event_id: '01a2315d-ea29-7100-bda6-67b431ada56c',
  trace_id: 'a'.repeat(32),
  window: '1h',
  bundle_id: 'b1',
  case_id: 'c1',
  id: 'a1',
  resource_type: 'sbom',
  resource_id: 'x1',
  // The wildcard of GET /evidence/:bundle_id/files/*: a file's path.
  '*': 'sbom/a.json',
  // A Collector profile's name (GET /telemetry/config/profile/:name).
  name: 'default',
  incident_id: 'inc-1',
};

interface Param {
  name: string;
  in: 'query' | 'path';
  schema: { type?: string; format?: string; minimum?: number };
}
interface OpenApi {
  paths: Record<string, Record<string, { parameters?: Param[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
}
type JsonSchema = Record<string, unknown>;

/** String schemas that cannot carry NUL or lone surrogates. */
const SAFE_FORMATS = new Set(['safe-text', 'safe-id', 'uuid', 'date-time']);
/**
 * Request bodies checked by their domain code instead of the schema: each event of
 * `POST /timeline/events` goes through telemetry-core's `buildTimelineEvent`, which refuses
 * what the timeline table cannot store, naming `body.events[i].<field>`.
 */
const DOMAIN_CHECKED_BODIES = new Set(['POST /timeline/events']);

/** Where a request schema lets through a value the database may refuse. */
function unsafeParts(schema: JsonSchema | undefined, at: string, out: string[]): void {
  if (!schema || typeof schema !== 'object') return;
  if (schema['x-safe-json'] === true) return;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((s, i) => unsafeParts(s as JsonSchema, `${at}|${key}[${i}]`, out));
  }
  const type = schema['type'];
  if (type === 'string' && !(SAFE_FORMATS.has(String(schema['format'])) || schema['pattern'] !== undefined || schema['enum'] !== undefined || schema['const'] !== undefined)) {
    out.push(`${at}: a string without a safe format (SafeString, SafeId), pattern or enum`);
  }
  if ((type === 'integer' || type === 'number') && !(Number.isFinite(schema['minimum']) && Number.isFinite(schema['maximum']))) {
    out.push(`${at}: a number without both bounds (BoundedInteger)`);
  }
  if (type === 'object') {
    for (const [name, member] of Object.entries((schema['properties'] as Record<string, JsonSchema> | undefined) ?? {})) unsafeParts(member, `${at}.${name}`, out);
    for (const [pattern, member] of Object.entries((schema['patternProperties'] as Record<string, JsonSchema> | undefined) ?? {})) unsafeParts(member, `${at}[${pattern}]`, out);
    const extra = schema['additionalProperties'];
    if (extra && typeof extra === 'object') {
      if (Object.keys(extra).length === 0) out.push(`${at}: free-form JSON without x-safe-json (SafeJsonObject)`);
      else unsafeParts(extra as JsonSchema, `${at}[*]`, out);
    }
    if (schema['propertyNames']) unsafeParts(schema['propertyNames'] as JsonSchema, `${at}{keys}`, out);
  }
  if (type === 'array') unsafeParts(schema['items'] as JsonSchema, `${at}[]`, out);
}

/** NUL, an encoded lone surrogate (high, low), an overlong NUL, a byte that is no UTF-8. */
const BAD_TEXT = ['%00', 'a%00b', '%ED%A0%80', 'x%ED%B0%80', '%C0%80', '%FF'];
/** Refused too where the value is an identifier (everything but free text such as `q`). */
const BAD_ID = ['%01', 'a%0Ab', '%7F'];
const BAD_INTEGERS = ['1e309', '-1e309', 'Infinity', 'NaN', '-1', '0', 'abc', '1.5', '99999999999999999999', ''];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`request input on ${engine.name}`, () => {
    let ts: TestService;
    let cleanup: () => Promise<void>;
    let token: string;
    let doc: OpenApi;

    const request = (method: string, url: string, payload?: string) =>
      ts.service.app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(payload !== undefined ? { payload } : {}),
      });

    /** Every GET route and its parameters, from the service's own API description. */
    const getRoutes = (): { path: string; params: Param[] }[] =>
      Object.entries(doc.paths)
        .filter(([, ops]) => ops['get'])
        .map(([path, ops]) => ({ path, params: ops['get']!.parameters ?? [] }));

    const urlFor = (path: string, params: Param[], target: Param, value: string): string => {
      let url = path;
      for (const p of params.filter((q) => q.in === 'path')) {
        const sample = PATH_SAMPLES[p.name];
        if (sample === undefined) throw new Error(`no sample value for path parameter ${p.name} of ${path}: add one to PATH_SAMPLES`);
        url = url.replace(`{${p.name}}`, p === target ? value : sample);
      }
      return target.in === 'query' ? `${url}?${target.name}=${value}` : url;
    };

    beforeAll(async () => {
      ({ ts, cleanup } = await engine.start());
      // Platform-wide stella:obs:read too, so routes over every tenant (GET /obs/tenants) are reached.
      token = await ts.token('acme', [...SCOPES, 'stella:obs:read']);
      doc = (await ts.service.app.inject({ url: '/openapi.json' })).json<OpenApi>();
    });
    afterAll(async () => {
      await ts?.stop();
      await cleanup?.();
    });

    it('every request schema of every route bounds what it accepts: safe strings, bounded numbers, checked free-form JSON', () => {
      const problems: string[] = [];
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const route = `${method.toUpperCase()} ${path}`;
          for (const p of op.parameters ?? []) unsafeParts(p.schema as JsonSchema, `${route} ${p.in}.${p.name}`, problems);
          const body = op.requestBody?.content?.['application/json']?.schema;
          if (body && !DOMAIN_CHECKED_BODIES.has(route)) unsafeParts(body, `${route} body`, problems);
        }
      }
      expect(problems).toEqual([]);
    });

    it('every string query and path parameter of every GET route refuses NUL, control characters, lone surrogates and invalid UTF-8 with a 400 naming it', async () => {
      let probed = 0;
      for (const { path, params } of getRoutes()) {
        for (const param of params.filter((p) => p.schema.type === 'string')) {
          for (const bad of param.schema.format === 'safe-text' ? BAD_TEXT : [...BAD_TEXT, ...BAD_ID]) {
            const url = urlFor(path, params, param, bad);
            const res = await request('GET', url);
            const body = res.json<{ error_code: string; field?: string; message: string }>();
            expect({ url, status: res.statusCode, error_code: body.error_code }).toEqual({ url, status: 400, error_code: 'request.invalid' });
            // An undecodable path is refused by the router before a route is known: the field is the path's parameters.
            const field = param.in === 'query' ? `query.${param.name}` : /%(ED|C0|FF)/.test(bad) ? 'params' : `params.${param.name}`;
            expect({ url, field: body.field }).toEqual({ url, field });
            expect(body.message.startsWith(field)).toBe(true);
            probed++;
          }
        }
      }
      // timeline, obs (4), capture, evidence (3), attestations (2), custody: the list grows with the API.
      expect(probed).toBeGreaterThanOrEqual(25 * BAD_TEXT.length);
    });

    it('the 400 says which rule the value broke', async () => {
      const nul = (await request('GET', '/timeline?resource_id=%00')).json<{ message: string }>();
      expect(nul.message).toMatch(/^query\.resource_id must be text without control characters/);
      const surrogate = (await request('GET', '/obs/logs?q=%ED%A0%80')).json<{ message: string }>();
      expect(surrogate.message).toMatch(/^query\.q must be text without NUL characters, lone UTF-16 surrogates or invalid UTF-8/);
      const path = (await request('GET', '/custody/sbom/%00')).json<{ message: string; field: string }>();
      expect(path).toMatchObject({ field: 'params.resource_id' });
    });

    it('every integer query parameter refuses non-finite, negative, fractional, huge and non-numeric values with a 400 naming it', async () => {
      let probed = 0;
      for (const { path, params } of getRoutes()) {
        for (const param of params.filter((p) => p.in === 'query' && (p.schema.type === 'integer' || p.schema.type === 'number'))) {
          // Where 0 is allowed (a count of neighbours: `before=0`), 0 and the empty value (coerced to 0) are no attack.
          for (const bad of BAD_INTEGERS.filter((b) => !(param.schema.minimum === 0 && (b === '0' || b === '')))) {
            const url = urlFor(path, params, param, bad);
            const res = await request('GET', url);
            const body = res.json<{ error_code: string; field?: string }>();
            expect({ url, status: res.statusCode, field: body.field }).toEqual({ url, status: 400, field: `query.${param.name}` });
            probed++;
          }
          // The values the attack used are refused by the schema itself.
          for (const bad of ['1e309', '-1', 'abc']) {
            expect((await request('GET', urlFor(path, params, param, bad))).json()).toMatchObject({ error_code: 'request.invalid', field: `query.${param.name}` });
          }
        }
      }
      expect(probed).toBeGreaterThanOrEqual(4 * BAD_INTEGERS.length); // timeline, obs/logs, evidence, attestations
    });

    it('text that is merely unusual is still accepted', async () => {
      for (const url of [
        '/timeline?resource_id=caf%C3%A9%20%E2%9C%93%F0%9F%98%80',
        '/timeline?resource_id=%25ED%25A0%2580',
        '/obs/logs?q=tab%09and%0Anewline',
        '/obs/logs?q=50%25%20off+coupon',
        '/evidence?resource_id=%E6%BC%A2%E5%AD%97',
        '/attestations?resource_id=%F0%9F%98%80',
        '/custody/sbom/caf%C3%A9',
      ]) {
        const res = await request('GET', url);
        expect({ url, status: res.statusCode }).toEqual({ url, status: res.statusCode === 404 ? 404 : 200 });
        expect(res.statusCode).toBeLessThan(500);
      }
      expect((await request('GET', '/timeline?limit=1e3')).statusCode).toBe(200);
    });

    it('body string fields and free-form JSON refuse NUL, control characters in identifiers, lone surrogates, non-finite numbers and deep nesting', async () => {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 40; i++) deep = { d: deep };
      const cases: [method: string, url: string, payload: string, field: string][] = [
        ['POST', '/evidence/snapshot', '{"kind":"evaluation","resource_id":"\\ud800","case_id":"c1"}', 'body.resource_id'],
        ['POST', '/evidence/snapshot', '{"kind":"evaluation","resource_id":"a\\u0000","case_id":"c1"}', 'body.resource_id'],
        ['POST', '/evidence/snapshot', '{"kind":"evaluation","resource_id":"r1","case_id":"c1","labels":{"k":"\\udfff"}}', 'body.labels.k'],
        ['POST', '/evidence/snapshot', '{"kind":"evaluation","resource_id":"r1","case_id":"c1","labels":{"k\\u0000":"v"}}', 'body.labels'],
        ['POST', '/evidence/artifacts', '{"resource_type":"sbom","resource_id":"r1","role":"input","name":"a\\u0001b","content_base64":""}', 'body.name'],
        ['POST', '/evidence/artifacts', '{"resource_type":"sbom","resource_id":"r1","role":"input","name":"a","content_base64":"\\u0000"}', 'body.content_base64'],
        ['POST', '/evidence/hold/c1', '{"action":"place","reason":"\\u0000"}', 'body.reason'],
        ['PUT', '/evidence/retention', '{"retention_days":1e309}', 'body.retention_days'],
        ['PUT', '/timeline/retention', '{"retention_days":1e309}', 'body.retention_days'],
        ['POST', '/attestations', '{"subject_id":"s1","resource_id":"\\ud800"}', 'body.resource_id'],
        ['POST', '/attestations', '{"subject_id":"s1","statement":{"subject":[{"name":"\\ud800"}]}}', 'body.statement.subject[0].name'],
        ['POST', '/attestations', '{"subject_id":"s1","statement":{"predicate":{"n":1e309}}}', 'body.statement.predicate.n'],
        ['POST', '/attestations', '{"subject_id":"s1","statement":{"\\u0000":1}}', 'body.statement.\\u0000'],
        ['POST', '/attestations', JSON.stringify({ subject_id: 's1', statement: deep }), `body.statement${'.d'.repeat(32)}`],
        ['POST', '/attestations/verify', '{"envelope":{"payload":"\\u0000"}}', 'body.envelope.payload'],
        ['POST', '/telemetry/incidents/mode', '{"state":"on","reason":"\\ud800"}', 'body.reason'],
        ['POST', '/telemetry/incidents/mode', '{"state":"on","service":"a\\u0000"}', 'body.service'],
        ['POST', '/telemetry/incidents/mode', '{"state":"on","ttl":"4h\\u0000"}', 'body.ttl'],
      ];
      for (const [method, url, payload, field] of cases) {
        const res = await request(method, url, payload);
        expect({ payload, status: res.statusCode, body: res.json() }).toMatchObject({ payload, status: 400, body: { error_code: 'request.invalid', field } });
      }
    });

    it('a time the database cannot hold is refused at the schema, naming the field', async () => {
      // Year 0 is a valid RFC 3339 date-time but no PostgreSQL timestamp (SQLSTATE 22008).
      const res = await request('GET', '/timeline?from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z');
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error_code: 'request.invalid', field: 'query.from' });
    });
  });
}
