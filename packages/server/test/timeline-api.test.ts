/**
 * The service on embedded defaults, through HTTP: authentication and authorisation cases,
 * timeline pages and guardrails, ingest validation, retention with its audit event, health,
 * OpenAPI, and a fuzz pass over every route's inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { DevAuthority, ROUTE_ACCESS, type TimelineRuntime } from '../src/index.js';
import { onDecision, type DecisionRecord } from '@stellaops/telemetry-core';
import { createProgram } from '@stellaops/cli';
import { eventually } from './helpers/external.js';
import { startTestService, type TestService } from './helpers/service.js';

let ts: TestService;
let token: string;
const auth = (t: string) => ({ authorization: `Bearer ${t}` });

beforeAll(async () => {
  ts = await startTestService();
  token = await ts.token('acme', ['timeline:read', 'timeline:write', 'timeline:admin']);
});
afterAll(async () => {
  await ts?.stop();
});

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  ts.service.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

async function ingest(events: object[], t = token): Promise<{ event_id: string; digest: string }[]> {
  const res = await inject('POST', '/timeline/events', auth(t), { events });
  expect(res.statusCode, res.body).toBe(202);
  return res.json<{ events: { event_id: string; digest: string }[] }>().events;
}

async function waitIndexed(eventId: string, t = token): Promise<void> {
  await eventually(async () => ((await inject('GET', `/timeline/${eventId}`, auth(t))).statusCode === 200 ? true : undefined), 10_000, `event ${eventId}`);
}

describe('authentication and authorisation', () => {
  it('401s a request without a token, saying how to send one', async () => {
    const res = await inject('GET', '/timeline');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'auth.token_missing' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('401s an expired token', async () => {
    const expired = await ts.token('acme', ['timeline:read'], { ttlSeconds: 60, now: Date.now() - 3_600_000 });
    const res = await inject('GET', '/timeline', auth(expired));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'auth.token_expired', message: expect.stringMatching(/expired/) });
  });

  it('401s a token signed by another key, even with the same kid', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const forger = DevAuthority.fromPrivateJwk({ ...(await exportJWK(privateKey)), alg: 'ES256', kid: ts.service.devAuthority!.kid });
    const forged = await forger.mint({ tenant: 'acme', scopes: ['timeline:read'] });
    const res = await inject('GET', '/timeline', auth(forged));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'auth.token_invalid', message: expect.stringMatching(/signature/) });
  });

  it('401s malformed, unsigned and wrong-audience tokens', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', scope: 'stella:timeline:read#tenant/acme', exp: 9e9 })).toString('base64url')}.`;
    for (const header of ['Bearer not-a-jwt', 'Basic dXNlcjpwYXNz', `Bearer ${unsigned}`, `Bearer ${token}x`]) {
      const res = await inject('GET', '/timeline', { authorization: header });
      expect(res.statusCode, header).toBe(401);
      expect(res.json().error_code).toBe('auth.token_invalid');
    }
    const otherAudience = await ts.service.devAuthority!.mint({ tenant: 'acme', scopes: ['timeline:read'], audience: 'someone-else' });
    const res = await inject('GET', '/timeline', auth(otherAudience));
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/"aud" claim/);
  });

  it('403s a token for another tenant, naming the scope and tenant', async () => {
    const other = await ts.token('globex', ['timeline:read']);
    const res = await inject('GET', '/timeline', { ...auth(other), 'x-stella-tenant': 'acme' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error_code: 'auth.tenant_denied',
      message: expect.stringContaining('stella:timeline:read#tenant/acme'),
      required_scope: 'stella:timeline:read#tenant/acme',
      tenant: 'acme',
    });
  });

  it('403s a token missing the scope, and logs every decision', async () => {
    const decisions: DecisionRecord[] = [];
    const off = onDecision((d) => decisions.push(d));
    try {
      const readOnly = await ts.token('acme', ['timeline:read']);
      const denied = await inject('PUT', '/timeline/retention', auth(readOnly), { retention_days: 10 });
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toEqual({
        error_code: 'auth.scope_denied',
        message: expect.stringContaining('stella:timeline:admin#tenant/acme'),
        required_scope: 'stella:timeline:admin#tenant/acme',
        tenant: 'acme',
      });
      const allowed = await inject('GET', '/timeline/retention', auth(readOnly));
      expect(allowed.statusCode).toBe(200);
    } finally {
      off();
    }
    expect(decisions.map((d) => [d.kind, d.effect, d.scope])).toEqual([
      ['authz', 'deny', 'stella:timeline:admin#tenant/acme'],
      ['authz', 'allow', 'stella:timeline:read#tenant/acme'],
    ]);
  });

  it('asks for the tenant header when the token names several tenants or none', async () => {
    const multi = await ts.service.devAuthority!.mint({ scopes: ['stella:timeline:read#tenant/acme', 'stella:timeline:read#tenant/globex'] });
    expect((await inject('GET', '/timeline', auth(multi))).json().error_code).toBe('tenant.ambiguous');
    expect((await inject('GET', '/timeline', { ...auth(multi), 'x-stella-tenant': 'globex' })).statusCode).toBe(200);
    const platform = await ts.service.devAuthority!.mint({ scopes: ['stella:timeline:read'] });
    expect((await inject('GET', '/timeline', auth(platform))).json().error_code).toBe('tenant.required');
    expect((await inject('GET', '/timeline', { ...auth(platform), 'x-stella-tenant': 'acme' })).statusCode).toBe(200);
    expect((await inject('GET', '/timeline', { ...auth(platform), 'x-stella-tenant': 'a.b>' })).json().error_code).toBe('tenant.invalid');
  });

  it('serves health, readiness and OpenAPI without a token, and every route is in the catalogue', async () => {
    expect((await inject('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await inject('GET', '/readyz')).json()).toMatchObject({ status: 'ready', store: 'ok', bus: 'ok', store_engine: 'pglite', bus_kind: 'in-process' });
    const api = (await inject('GET', '/openapi.json')).json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(api.openapi).toMatch(/^3\./);
    const documented = Object.entries(api.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1').replace(/\/\{\*\}$/, '/*')}`));
    const catalogued = Object.entries(ROUTE_ACCESS)
      .filter(([, access]) => !(access.kind === 'public' && access.api === false))
      .map(([key]) => key);
    expect(documented.sort()).toEqual(catalogued.sort());
  });
});

describe('timeline API', () => {
  it('fills tenant, id, ts and digest on ingest, scrubs details, and serves the event with links', async () => {
    const [created] = await ingest([{ kind: 'policy.evaluated', resource_type: 'sbom', resource_id: 'sbom-1', trace_id: 'ab'.repeat(16), details: { api_key: 'sk_live_abcdef0123456789', rule: 'r1' } }]);
    await waitIndexed(created!.event_id);
    const res = await inject('GET', `/timeline/${created!.event_id}`, auth(token));
    const body = res.json<{ event: Record<string, unknown>; links: Record<string, unknown> }>();
    expect(body.event).toMatchObject({ event_id: created!.event_id, tenant_id: 'acme', kind: 'policy.evaluated', actor: 'dev-user', digest: created!.digest });
    expect(JSON.stringify(body.event['details'])).not.toContain('sk_live_abcdef0123456789');
    expect(body.event['details']).toMatchObject({ rule: 'r1' });
    expect(body.links).toEqual({ trace: `/obs/trace/${'ab'.repeat(16)}`, evidence: [], attestations: '/attestations?subject_id=sbom-1' });
  });

  it('links evidence bundles labelled with the event resource', async () => {
    const [created] = await ingest([{ kind: 'evidence.snapshot.requested', resource_type: 'job', resource_id: 'job-77' }]);
    await waitIndexed(created!.event_id);
    await ts.service.store.tenantTransaction('acme', (tx) =>
      tx.query(`INSERT INTO evidence_bundles (tenant_id, id, case_id, kind, root_hash, path, labels) VALUES ('acme', 'bundle-1', 'case-9', 'job_capsule', 'sha256:ff', 'p', $1::jsonb)`, [
        JSON.stringify({ resource_type: 'job', resource_id: 'job-77' }),
      ]),
    );
    const links = (await inject('GET', `/timeline/${created!.event_id}`, auth(token))).json<{ links: { evidence: unknown[] } }>().links;
    expect(links.evidence).toEqual([{ href: '/evidence/bundle-1', bundle_id: 'bundle-1', kind: 'job_capsule', case_id: 'case-9', root_hash: 'sha256:ff' }]);
  });

  it('pages newest first with a cursor, filters by kind prefix and resource, and caps the limit', async () => {
    const tenantToken = await ts.token('pager', ['timeline:read', 'timeline:write']);
    const base = Date.parse('2025-06-01T00:00:00.000Z');
    const events = Array.from({ length: 25 }, (_, i) => ({
      kind: i % 2 ? 'job.finished' : 'job.started',
      ts: new Date(base + i * 1000).toISOString(),
      resource_type: 'job',
      resource_id: `job-${i % 5}`,
    }));
    const created = await ingest(events, tenantToken);
    await waitIndexed(created[24]!.event_id, tenantToken);
    await eventually(async () => ((await inject('GET', `/timeline?from=2025-05-31T00:00:00Z&to=2025-06-02T00:00:00Z&limit=1000`, auth(tenantToken))).json().events.length === 25 ? true : undefined));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `from=2025-05-31T00:00:00Z&to=2025-06-02T00:00:00Z&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { events: { event_id: string; ts: string }[]; next_cursor: string | null } = (await inject('GET', `/timeline?${q}`, auth(tenantToken))).json();
      seen.push(...page.events.map((e) => e.ts));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(events.map((e) => e.ts).reverse());
    const started = (await inject('GET', '/timeline?from=2025-05-31T00:00:00Z&to=2025-06-02T00:00:00Z&kind=job.*&resource_id=job-0', auth(tenantToken))).json<{ events: { kind: string; resource_id: string }[] }>();
    expect(started.events).toHaveLength(5);
    expect(started.events.every((e) => e.resource_id === 'job-0')).toBe(true);
    const tooMany = await inject('GET', '/timeline?limit=1001', auth(tenantToken));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ error_code: 'timeline.limit_too_large', allowed: { min: 1, max: 1000 } });
    const badCursor = await inject('GET', '/timeline?cursor=bm9wZQ', auth(tenantToken));
    expect(badCursor.json()).toMatchObject({ error_code: 'timeline.cursor_invalid', field: 'query.cursor' });
  });

  it('400s a window wider than the retention, saying the allowed range', async () => {
    const res = await inject('GET', '/timeline?from=2020-01-01T00:00:00Z&to=2025-01-01T00:00:00Z', auth(token));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error_code: 'timeline.window_too_wide', allowed: { earliest_from: expect.any(String), max_days: expect.any(Number) } });
    expect(res.json().message).toMatch(/at most \d+ days/);
  });

  it('rejects a bad batch whole, naming the field, and publishes nothing of it', async () => {
    const t = await ts.token('strict', ['timeline:read', 'timeline:write']);
    const bad = await inject('POST', '/timeline/events', auth(t), { events: [{ kind: 'ok.kind' }, { kind: 'Not A Kind' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error_code: 'timeline.kind_invalid', field: 'body.events[1].kind' });
    const wrongDigest = await inject('POST', '/timeline/events', auth(t), { events: [{ kind: 'a.b', digest: `sha256:${'0'.repeat(64)}` }] });
    expect(wrongDigest.json()).toMatchObject({ error_code: 'timeline.digest_mismatch', field: 'body.events[0].digest' });
    const unknownField = await inject('POST', '/timeline/events', auth(t), { events: [{ kind: 'a.b', colour: 'red' }] });
    expect(unknownField.json()).toMatchObject({ error_code: 'request.invalid', field: 'body.events[0].colour' });
    const [marker] = await ingest([{ kind: 'marker.after' }], t);
    await waitIndexed(marker!.event_id, t);
    expect((await inject('GET', '/timeline', auth(t))).json().events.map((e: { kind: string }) => e.kind)).toEqual(['marker.after']);
  });

  it('stores a re-sent event once', async () => {
    const t = await ts.token('resend', ['timeline:read', 'timeline:write']);
    const event = { kind: 'export.started', ts: '2025-03-01T10:00:00.000Z', event_id: '0195a3c0-0000-7000-8000-000000000001', trace_id: 'cd'.repeat(16) };
    const [first] = await ingest([event], t);
    const again = await inject('POST', '/timeline/events', auth(t), { events: [event] });
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 1, events: [{ digest: first!.digest }] });
    await waitIndexed(first!.event_id, t);
    const stored = await ts.service.store.tenantTransaction('resend', async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events')).rows[0]!.n);
    expect(stored).toBe(1);
  });

  it('audits a retention change and the retention job deletes what fell out of it', async () => {
    const admin = await ts.token('keeper', ['timeline:read', 'timeline:write', 'timeline:admin']);
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 86_400_000).toISOString();
    const created = await ingest([{ kind: 'job.old', ts: old }, { kind: 'job.recent', ts: recent }], admin);
    await waitIndexed(created[1]!.event_id, admin);
    const put = await inject('PUT', '/timeline/retention', auth(admin), { retention_days: 30 });
    expect(put.json()).toEqual({ tenant_id: 'keeper', retention_days: 30, source: 'tenant', allowed: { min_days: 30, max_days: 3650 }, audit_min_days: 400 });
    const outcome = await (ts.service.features.get('timeline') as TimelineRuntime).retention.runOnce();
    expect(outcome.find((o) => o.tenant_id === 'keeper')).toEqual({ tenant_id: 'keeper', retention_days: 30, deleted: 1, kept: {}, audit_event_id: null });
    const kinds = (await inject('GET', '/timeline', auth(admin))).json<{ events: { kind: string; details: Record<string, unknown> }[] }>().events;
    expect(kinds.map((e) => e.kind)).toEqual(['audit.timeline.retention_changed', 'job.recent']);
    expect(kinds[0]!.details).toMatchObject({ previous_days: 180, retention_days: 30, granted_by: 'stella:timeline:admin#tenant/keeper' });
    const wide = await inject('GET', `/timeline?from=${new Date(Date.now() - 31 * 86_400_000).toISOString()}`, auth(admin));
    expect(wide.json()).toMatchObject({ error_code: 'timeline.window_too_wide', allowed: { max_days: 30 } });
  });
});

describe('fuzz: every route answers random input with 2xx or 4xx', () => {
  // Seeded so a failure reproduces.
  let seed = 0x5eed1234;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const strings = ['', ' ', 'a', 'audit.*', 'x'.repeat(5000), '../../etc/passwd', "' OR 1=1 --", '%00', '\u0000', '😀', '2025-01-01T00:00:00Z', 'not-a-date', '-1', '0', '1001', '1e309', 'null', 'true', '[]', '{}', 'ab'.repeat(16), '0195a3c0-0000-7000-8000-000000000001', 'tenant-a', 'a.b>*'];
  const value = (depth = 0): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.35) return pick(strings);
    if (r < 0.45) return Math.floor(rand() * 2e6) - 1e6;
    if (r < 0.5) return pick([null, true, false, 1.5, -0, 1e308]);
    if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const keys = ['kind', 'events', 'ts', 'event_id', 'details', 'tenant_id', 'trace_id', 'digest', 'retention_days', 'resource_id', 'project_id', 'actor', 'zzz'];
    return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [pick(keys), value(depth + 1)]));
  };
  const queryKeys = ['from', 'to', 'kind', 'resource_type', 'resource_id', 'project', 'trace_id', 'limit', 'cursor', 'unknown'];

  it('never crashes or 5xxs', async () => {
    const tokens = [token, await ts.token('other', ['timeline:read']), 'garbage', ''];
    const statuses = new Map<number, number>();
    for (const key of Object.keys(ROUTE_ACCESS)) {
      const [method, path] = key.split(' ') as ['GET' | 'POST' | 'PUT', string];
      // The Console's files are HTML and scripts, or a 503 page while it is not built (test/console/console-routes.test.ts).
      if (path.startsWith('/console')) continue;
      for (let i = 0; i < 60; i++) {
        const url =
          path.replace(':event_id', encodeURIComponent(String(pick([...strings, '0195a3c0-0000-7000-8000-000000000001'])))) +
          '?' +
          Array.from({ length: Math.floor(rand() * 4) }, () => `${pick(queryKeys)}=${encodeURIComponent(String(pick(strings)))}`).join('&');
        const headers: Record<string, string> = {};
        const t = pick(tokens);
        if (t) headers['authorization'] = `Bearer ${t}`;
        if (rand() < 0.2) headers['x-stella-tenant'] = String(pick(strings)).slice(0, 100).replace(/[^\x20-\x7e]/g, '');
        let payload: string | undefined;
        if (method !== 'GET') {
          const r = rand();
          payload = r < 0.1 ? '{not json' : r < 0.5 ? JSON.stringify({ events: [value()] }) : JSON.stringify(value());
          headers['content-type'] = rand() < 0.9 ? 'application/json' : pick(['text/plain', 'application/xml', 'multipart/form-data']);
        }
        const res = await ts.service.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, `${method} ${url} ${payload ?? ''}`.slice(0, 400)).toBeLessThan(500);
        if (res.statusCode >= 400) expect(res.json(), res.body).toMatchObject({ error_code: expect.any(String), message: expect.any(String) });
      }
    }
    // The pass must reach handlers, not only bounce off authentication.
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(0);
  });
});

describe('stella auth token (development authority)', () => {
  async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const { run } = createProgram({ stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {}, cwd: process.cwd() });
    const code = await run(argv);
    return { code, stdout, stderr };
  }

  it('prints only a token the service accepts, with the scopes asked for', async () => {
    const out = await cli(['auth', 'token', '--data-dir', ts.dataDir, '--tenant', 'acme', '--scope', 'timeline:read', '--ttl', '10m']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const res = await inject('GET', '/timeline/retention', auth(out.stdout.trim()));
    expect(res.statusCode).toBe(200);
    const denied = await inject('PUT', '/timeline/retention', auth(out.stdout.trim()), { retention_days: 5 });
    expect(denied.json()).toMatchObject({ error_code: 'auth.scope_denied', required_scope: 'stella:timeline:admin#tenant/acme' });
  });

  it('explains a missing authority, short scopes without a tenant and bad durations', async () => {
    expect((await cli(['auth', 'token', '--data-dir', join(ts.dataDir, 'nowhere'), '--tenant', 'acme', '--scope', 'timeline:read'])).stderr).toMatch(/no development authority key/);
    expect((await cli(['auth', 'token', '--data-dir', ts.dataDir, '--scope', 'timeline:read'])).stderr).toMatch(/needs --tenant/);
    const bad = await cli(['auth', 'token', '--data-dir', ts.dataDir, '--tenant', 'acme', '--scope', 'timeline:read', '--ttl', '90d']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/--ttl/);
  });
});

describe('service', () => {
  it('verifies tokens against a JWKS file (air-gapped installs)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const jwksFile = join(ts.dataDir, 'offline-jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const { TokenVerifier } = await import('../src/index.js');
    const verifier = new TokenVerifier({ jwks: { file: jwksFile }, issuer: 'https://authority.example', audience: 'stella-observability' });
    const jwt = await new SignJWT({ scope: 'stella:timeline:read#tenant/acme' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://authority.example')
      .setAudience('stella-observability')
      .setSubject('svc-1')
      .setExpirationTime('5m')
      .sign(privateKey);
    const principal = await verifier.verify(jwt);
    expect(principal.subject).toBe('svc-1');
    expect(principal.scopes.grants('stella:timeline:read', 'acme')).toBe(true);
    expect(principal.scopes.grants('stella:timeline:read', 'globex')).toBe(false);
  });
});

// Last: it restarts the service on the same data directory.
describe('graceful shutdown', () => {
  it('stores every accepted event before closing, and the data survives a restart', async () => {
    const t = await ts.token('shutdown', ['timeline:read', 'timeline:write']);
    const accepted = await ingest(Array.from({ length: 300 }, (_, i) => ({ kind: 'job.step', resource_id: `step-${i}` })), t);
    await ts.service.close();
    const { createService } = await import('../src/index.js');
    const restarted = await createService({ config: ts.service.config });
    try {
      const n = await restarted.store.tenantTransaction('shutdown', async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events')).rows[0]!.n);
      expect(n).toBe(accepted.length);
      const again = await restarted.devAuthority!.mint({ tenant: 'shutdown', scopes: ['timeline:read'] });
      expect((await restarted.app.inject({ method: 'GET', url: '/timeline?limit=1', headers: auth(again) })).statusCode).toBe(200);
      // The development key survived too: a token minted before the restart still verifies.
      expect((await restarted.app.inject({ method: 'GET', url: '/timeline?limit=1', headers: auth(t) })).statusCode).toBe(200);
    } finally {
      await restarted.close();
    }
  });
});
