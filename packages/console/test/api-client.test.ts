/** Every API call carries the token, the tenant and its own traceparent, logs its trace id, and keeps the service's explanation of a refusal. */
import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, withQuery, type ApiCall } from '../src/api/api-client.js';

interface Sent {
  url: string;
  headers: Record<string, string>;
}

function fakeService(answer: (sent: Sent) => Response): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const request = { url: String(input), headers: { ...(init?.headers as Record<string, string>) } };
      sent.push(request);
      return answer(request);
    }) as typeof fetch,
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const token = () => `${crypto.randomUUID()}.${crypto.randomUUID()}.${crypto.randomUUID()}`;

describe('the API client', () => {
  it('sends the token, the tenant and a fresh traceparent per call, logs each trace id and reports the call', async () => {
    const service = fakeService((sent) => json(200, { ok: true }, { traceparent: sent.headers['traceparent']!.replace(/-[0-9a-f]{16}-/, '-1111111111111111-') }));
    const lines: string[] = [];
    const calls: ApiCall[] = [];
    const secret = token();
    const client = createApiClient({ token: secret, tenant: 'acme', fetch: service.fetch, log: (l) => lines.push(l), onCall: (c) => calls.push(c), now: () => 42 });
    expect(await client.get('/obs/health')).toEqual({ ok: true });
    await client.get('/obs/slo');
    const [first, second] = service.sent;
    expect(first!.url).toBe('/obs/health');
    expect(first!.headers).toMatchObject({ authorization: `Bearer ${secret}`, 'x-stella-tenant': 'acme', accept: 'application/json' });
    const traceIds = service.sent.map((s) => /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(s.headers['traceparent']!)![1]!);
    expect(new Set(traceIds).size).toBe(2);
    expect(calls).toEqual([
      { method: 'GET', path: '/obs/health', traceId: traceIds[0], status: 200, at: 42 },
      { method: 'GET', path: '/obs/slo', traceId: traceIds[1], status: 200, at: 42 },
    ]);
    expect(lines).toEqual([`[StellaOps Console] GET /obs/health → 200 trace_id=${traceIds[0]}`, `[StellaOps Console] GET /obs/slo → 200 trace_id=${traceIds[1]}`]);
    expect(lines.join('\n')).not.toContain(secret);
    expect(second!.headers['x-stella-tenant']).toBe('acme');
  });

  it('sends no tenant header when none is selected', async () => {
    const service = fakeService(() => json(200, {}));
    await createApiClient({ token: token(), fetch: service.fetch, log: () => undefined }).get('/auth/whoami');
    expect(service.sent[0]!.headers['x-stella-tenant']).toBeUndefined();
  });

  it("turns a refusal into an ApiError with the service's explanation and the call's trace id", async () => {
    const denial = { error_code: 'auth.tenant_denied', message: 'the token grants this action for other tenants but not for tenant "globex"; it needs stella:obs:read#tenant/globex', required_scope: 'stella:obs:read#tenant/globex', tenant: 'globex' };
    const service = fakeService(() => json(403, denial));
    const calls: ApiCall[] = [];
    const error = await createApiClient({ token: token(), tenant: 'globex', fetch: service.fetch, log: () => undefined, onCall: (c) => calls.push(c) })
      .get('/obs/health')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    expect({ status: e.status, code: e.code, message: e.message, answer: e.answer }).toEqual({ status: 403, code: 'auth.tenant_denied', message: denial.message, answer: denial });
    expect(e.traceId).toBe(calls[0]!.traceId);
    expect(calls[0]!.status).toBe(403);
  });

  it('says so when the service cannot be reached, or answers without a JSON body', async () => {
    const lines: string[] = [];
    const down = createApiClient({ token: token(), fetch: (async () => Promise.reject(new TypeError('fetch failed'))) as typeof fetch, log: (l) => lines.push(l) });
    const error = (await down.get('/obs/health').catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 0, message: expect.stringMatching(/could not be reached/) });
    expect(lines[0]).toMatch(/GET \/obs\/health → no answer trace_id=[0-9a-f]{32}$/);
    const proxy = createApiClient({ token: token(), fetch: fakeService(() => new Response('<html>Bad gateway</html>', { status: 502 })).fetch, log: () => undefined });
    expect(await proxy.get('/obs/health').catch((e: unknown) => e)).toMatchObject({ status: 502, message: 'The service answered HTTP 502.' });
  });

  it('builds query strings without empty values', () => {
    expect(withQuery('/obs/logs', { q: '50% off', severity: '', limit: 10, service: undefined })).toBe('/obs/logs?q=50%25+off&limit=10');
    expect(withQuery('/obs/logs', {})).toBe('/obs/logs');
  });
});
