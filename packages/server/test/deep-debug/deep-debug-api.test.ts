/**
 * Deep debug as an operator feature (CORE-2, AUTH-4), on embedded defaults: only
 * `stella:telemetry:admin` switches it, and a refusal names that scope; bad input is refused
 * with the catalogue's codes and changes nothing; on → status → off is audited with actor and
 * reason, and the service follows its own broadcast (its logs for the tenant relax, another
 * tenant's stay strict, secrets always); a grant survives a restart and ends by itself at its
 * TTL, audited once.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addLogSink, isDeepDebugActive, onDeepDebugChange, withContext, type DeepDebugEvent } from '@stellaops/telemetry-core';
import type { DeepDebugRuntime } from '../../src/deep-debug/deep-debug-feature.js';
import { startReceiver, type ReceiverService } from '../otlp/otlp-helpers.js';

const TENANT = 'acme';
const OTHER = 'globex';
const PREFIX = `ddapi${randomBytes(3).toString('hex')}`;
const FLAGS = ['--subject-prefix', PREFIX];
const SRE = 'user:sre-1';

let now = Date.now();
let t: ReceiverService;
let admin: string;
let auditor: string;
const events: DeepDebugEvent[] = [];
let unsubscribe: () => void = () => undefined;

beforeAll(async () => {
  t = await startReceiver({}, FLAGS, () => now);
  admin = await t.token(TENANT, [`stella:telemetry:admin#tenant/${TENANT}`], { subject: SRE });
  auditor = await t.token(TENANT, [`stella:timeline:read#tenant/${TENANT}`]);
});

afterAll(async () => {
  await t?.stop();
});

beforeEach(() => {
  events.length = 0;
  unsubscribe = onDeepDebugChange((e) => events.push(e));
});

afterEach(() => unsubscribe());

const runtime = (): DeepDebugRuntime => t.service.features.get('deep-debug') as DeepDebugRuntime;
const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const enable = (payload: Record<string, unknown>, token = admin) => t.service.app.inject({ method: 'POST', url: '/telemetry/deep-debug', headers: auth(token), payload });
const disable = (tenant: string, token = admin, query = '') => t.service.app.inject({ method: 'DELETE', url: `/telemetry/deep-debug/${tenant}${query}`, headers: auth(token) });
const status = async (token = admin) => {
  const res = await t.service.app.inject({ method: 'GET', url: '/telemetry/deep-debug', headers: auth(token) });
  expect(res.statusCode, res.body).toBe(200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  return res.json<Record<string, any>>();
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- timeline events are asserted field by field
async function audits(): Promise<Record<string, any>[]> {
  const res = await t.service.app.inject({ method: 'GET', url: '/timeline?kind=audit.deep_debug.*&limit=100', headers: auth(auditor) });
  expect(res.statusCode, res.body).toBe(200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- timeline events are asserted field by field
  return (res.json().events as Record<string, any>[]).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('deep debug API', () => {
  it('refuses callers without stella:telemetry:admin, naming the scope', async () => {
    const reader = await t.token(TENANT, [`stella:obs:read#tenant/${TENANT}`]);
    const on = await enable({ ttl: '30m', reason: 'not allowed' }, reader);
    expect(on.statusCode).toBe(403);
    expect(on.json()).toMatchObject({
      error_code: 'auth.scope_denied',
      required_scope: `stella:telemetry:admin#tenant/${TENANT}`,
      tenant: TENANT,
      message: expect.stringContaining(`lacks the scope stella:telemetry:admin#tenant/${TENANT}`),
    });
    const off = await disable(TENANT, reader);
    expect([off.statusCode, off.json().error_code, off.json().required_scope]).toEqual([403, 'auth.scope_denied', `stella:telemetry:admin#tenant/${TENANT}`]);
    // An admin of another tenant is told the scope is for other tenants.
    const elsewhere = await t.token(OTHER, [`stella:telemetry:admin#tenant/${OTHER}`]);
    const foreign = await t.service.app.inject({ method: 'POST', url: '/telemetry/deep-debug', headers: { ...auth(elsewhere), 'x-stella-tenant': TENANT }, payload: { ttl: '30m', reason: 'x' } });
    expect([foreign.statusCode, foreign.json().error_code]).toEqual([403, 'auth.tenant_denied']);
    // Reading the status is open to the tenant's readers and its processes; not to a timeline reader.
    expect((await status(reader)).state).toBe('off');
    const denied = await t.service.app.inject({ method: 'GET', url: '/telemetry/deep-debug', headers: auth(auditor) });
    expect([denied.statusCode, denied.json().required_scope]).toEqual([403, `stella:telemetry:admin#tenant/${TENANT}`]);
    expect(await audits()).toEqual([]);
  });

  it('refuses a bad ttl, a missing reason and another tenant with stable codes, changing nothing', async () => {
    for (const ttl of ['forever', '25h', 'P2D', '0m', undefined]) {
      const res = await enable({ ...(ttl === undefined ? {} : { ttl }), reason: 'support case 4711' });
      expect({ ttl, status: res.statusCode }).toEqual({ ttl, status: 400 });
      expect(res.json()).toMatchObject({ error_code: 'deepdebug.ttl_invalid', field: 'body.ttl', allowed: { max_seconds: 86_400 } });
    }
    for (const reason of [undefined, '   ']) {
      const res = await enable({ ttl: '30m', ...(reason === undefined ? {} : { reason }) });
      expect([res.statusCode, res.json().error_code, res.json().field]).toEqual([400, 'deepdebug.reason_required', 'body.reason']);
    }
    const mismatch = await enable({ tenant: OTHER, ttl: '30m', reason: 'x' });
    expect([mismatch.statusCode, mismatch.json().error_code, mismatch.json().field]).toEqual([403, 'deepdebug.tenant_mismatch', 'body.tenant']);
    const offOther = await disable(OTHER);
    expect([offOther.statusCode, offOther.json().error_code]).toEqual([403, 'deepdebug.tenant_mismatch']);
    const notOn = await disable(TENANT);
    expect([notOn.statusCode, notOn.json().error_code]).toEqual([409, 'deepdebug.not_active']);
    const unknown = await enable({ ttl: '30m', reason: 'x', scope: 'everything' });
    expect([unknown.statusCode, unknown.json().error_code]).toEqual([400, 'request.invalid']);

    expect(await status()).toMatchObject({ tenant: TENANT, state: 'off', grants: [] });
    expect(await audits()).toEqual([]);
    expect(events).toEqual([]);
    expect(isDeepDebugActive(TENANT)).toBe(false);
  });

  it('switches on, shows and switches off, audited with actor and reason; the service follows it in its own logs', async () => {
    const lines: string[] = [];
    const removeSink = addLogSink({ minLevel: 0, write: (line) => lines.push(line) });
    try {
      const on = await enable({ tenant: TENANT, ttl: '30m', reason: 'support case 4711' });
      expect(on.statusCode, on.body).toBe(200);
      const grant = on.json().grant;
      expect(on.json()).toMatchObject({ state: 'on', replaced: null, grant: { tenant: TENANT, actor: SRE, reason: 'support case 4711', expires_at: new Date(now + 1_800_000).toISOString(), ended_at: null } });

      // The service applies its own broadcast: the grant reaches its logger without any direct call.
      await until(() => (isDeepDebugActive(TENANT) ? true : undefined), 'the service to apply the grant');
      expect(isDeepDebugActive(OTHER)).toBe(false);
      expect(events).toEqual([{ type: 'enabled', tenantId: TENANT, actor: SRE, reason: 'support case 4711', expiresAt: now + 1_800_000 }]);
      expect(await status()).toEqual({
        tenant: TENANT,
        state: 'on',
        grants: [{ grant_id: grant.grant_id, tenant: TENANT, actor: SRE, reason: 'support case 4711', enabled_at: grant.enabled_at, expires_at: grant.expires_at }],
        recent: [],
      });

      const secret = randomBytes(12).toString('hex');
      const token = `ghp_${randomBytes(18).toString('hex')}`;
      for (const tenant of [TENANT, OTHER]) {
        withContext({ tenant_id: tenant }, () => t.service.logger.error({ details: { user: `henry@${tenant}.example` } }, `sign-in failed for henry@${tenant}.example with password=${secret} and ${token}`));
      }
      const [acme, globex] = [TENANT, OTHER].map((tenant) => lines.find((l) => l.includes('"sign-in failed') && l.includes(`"tenant_id":"${tenant}"`))!);
      expect(acme).toContain(`henry@${TENANT}.example`);
      expect(globex).not.toContain(`henry@${OTHER}.example`);
      expect(globex).toContain('[REDACTED:email]');
      for (const line of [acme, globex]) {
        expect(line).not.toContain(secret);
        expect(line).not.toContain(token);
      }

      now += 1000;
      const off = await disable(TENANT, admin, '?reason=found%20it');
      expect(off.statusCode, off.body).toBe(200);
      expect(off.json()).toMatchObject({ state: 'off', grants: [], grant: { grant_id: grant.grant_id, end_reason: 'off', ended_by: SRE, off_reason: 'found it' } });
      await until(() => (isDeepDebugActive(TENANT) ? undefined : true), 'the service to drop the grant');
      expect(events.at(-1)).toEqual({ type: 'disabled', tenantId: TENANT, actor: SRE, reason: 'support case 4711', expiresAt: Date.parse(grant.expires_at) });
      const after = await status();
      expect(after).toMatchObject({ state: 'off', grants: [], recent: [{ grant_id: grant.grant_id, end_reason: 'off', ended_by: SRE }] });

      lines.length = 0;
      withContext({ tenant_id: TENANT }, () => t.service.logger.error(`sign-in failed for henry@${TENANT}.example`));
      expect(lines.find((l) => l.includes('"sign-in failed'))).toContain('[REDACTED:email]');

      const trail = await audits();
      expect(trail.map((e) => [e.kind, e.actor, e.resource_type, e.resource_id])).toEqual([
        ['audit.deep_debug.on', SRE, 'deep_debug', grant.grant_id],
        ['audit.deep_debug.off', SRE, 'deep_debug', grant.grant_id],
      ]);
      expect(trail[0]!.details).toMatchObject({ reason: 'support case 4711', expires_at: grant.expires_at, ttl_seconds: 1800, relaxes: ['email', 'path'] });
      expect(trail[1]!.details).toMatchObject({ reason: 'support case 4711', end_reason: 'off', off_reason: 'found it' });
    } finally {
      removeSink();
    }
  });

  it('keeps a grant across a restart and ends it by itself at its TTL, audited once', async () => {
    const on = await enable({ ttl: '1800s', reason: 'checkout e-mails bounce' });
    expect(on.statusCode, on.body).toBe(200);
    const grant = on.json().grant;
    await until(() => (isDeepDebugActive(TENANT) ? true : undefined), 'the service to apply the grant');

    // A new service on the same data directory starts from the stored grant.
    await t.service.close();
    t = await startReceiver({}, FLAGS, () => now, t.dataDir);
    expect(runtime().source()!.current()).toEqual([expect.objectContaining({ tenant: TENANT, grant: expect.objectContaining({ grant_id: grant.grant_id, expires_at: grant.expires_at }) })]);
    expect((await status()).grants).toEqual([expect.objectContaining({ grant_id: grant.grant_id })]);

    // Not yet due: nothing ends.
    expect(await runtime().ttl.runOnce()).toEqual([]);
    now += 30 * 60_000 + 1000;
    const ended = await runtime().ttl.runOnce();
    expect(ended.map((g) => [g.grant_id, g.end_reason, g.ended_by, g.ended_at])).toEqual([[grant.grant_id, 'ttl', 'system:ttl', grant.expires_at]]);
    expect(await runtime().ttl.runOnce()).toEqual([]);
    // This process's clock has not reached the expiry: the broadcast of the expiry ends it here.
    await until(() => (isDeepDebugActive(TENANT) ? undefined : true), 'the service to drop the expired grant');
    expect(events.filter((e) => e.type !== 'enabled')).toEqual([{ type: 'expired', tenantId: TENANT, actor: 'system:ttl', reason: 'checkout e-mails bounce', expiresAt: Date.parse(grant.expires_at) }]);
    const after = await status();
    expect(after).toMatchObject({ state: 'off', grants: [] });
    expect(after.recent[0]).toMatchObject({ grant_id: grant.grant_id, end_reason: 'ttl', ended_by: 'system:ttl', ended_at: grant.expires_at });

    const expired = (await audits()).filter((e) => e.kind === 'audit.deep_debug.expired');
    expect(expired.map((e) => [e.actor, e.resource_id, e.details.reason])).toEqual([['system:ttl', grant.grant_id, 'checkout e-mails bounce']]);
  });
});
