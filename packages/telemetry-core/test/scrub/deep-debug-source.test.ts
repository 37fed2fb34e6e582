import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyDeepDebugGrant,
  BusDeepDebugSource,
  deepDebugSubject,
  disableDeepDebug,
  followDeepDebug,
  HttpDeepDebugSource,
  InProcessBus,
  isDeepDebugActive,
  listDeepDebug,
  MAX_DEEP_DEBUG_TTL_MS,
  onDeepDebugChange,
  parseDeepDebugStatus,
  ScrubError,
  setScrubClock,
  streamSubjects,
  type DeepDebugEvent,
  type DeepDebugState,
} from '../../src/index.js';

const PREFIX = 'stellatest';
let now = Date.parse('2025-03-01T10:00:00Z');
const events: DeepDebugEvent[] = [];
let unsubscribe: () => void = () => undefined;

beforeEach(() => {
  now = Date.parse('2025-03-01T10:00:00Z');
  setScrubClock(() => now);
  events.length = 0;
  unsubscribe = onDeepDebugChange((e) => events.push(e));
});

afterEach(() => {
  unsubscribe();
  for (const g of listDeepDebug()) disableDeepDebug(g.tenantId, { actor: 'test-cleanup' });
  setScrubClock();
});

const at = (offsetMs: number): string => new Date(Date.parse('2025-03-01T10:00:00Z') + offsetMs).toISOString();

function state(tenant: string, grant: { id: string; actor?: string; reason?: string; from?: number; to: number } | null, change: DeepDebugState['change']): DeepDebugState {
  return {
    tenant,
    grant: grant && { grant_id: grant.id, tenant, actor: grant.actor ?? 'user:sre-1', reason: grant.reason ?? 'case 1', enabled_at: at(grant.from ?? 0), expires_at: at(grant.to) },
    change,
  };
}

function publish(bus: InProcessBus, tenant: string, body: unknown, id: string): Promise<unknown> {
  return bus.publish(deepDebugSubject(tenant, PREFIX), Buffer.from(JSON.stringify(body)), { msgId: id });
}

/** Resolves once `check` holds, re-checked on each delivery of `source` (bounded). */
function delivered(source: BusDeepDebugSource, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching delivery within 2 s')), 2000);
    const off = source.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      queueMicrotask(() => off());
      resolve();
    });
  });
}

describe('applyDeepDebugGrant', () => {
  it('applies a grant with its own expiry, once; caps it at the longest TTL; ignores one already expired', () => {
    const grant = { tenantId: 'acme', actor: 'user:sre-1', reason: 'case 1', enabledAt: now - 1000, expiresAt: now + 60_000 };
    expect(applyDeepDebugGrant(grant)).toBe(true);
    expect(applyDeepDebugGrant({ ...grant })).toBe(false);
    expect(events).toEqual([{ type: 'enabled', tenantId: 'acme', actor: 'user:sre-1', reason: 'case 1', expiresAt: now + 60_000 }]);
    expect(isDeepDebugActive('acme')).toBe(true);

    expect(applyDeepDebugGrant({ ...grant, tenantId: 'globex', expiresAt: now + 10 * MAX_DEEP_DEBUG_TTL_MS })).toBe(true);
    expect(listDeepDebug().find((g) => g.tenantId === 'globex')?.expiresAt).toBe(now + MAX_DEEP_DEBUG_TTL_MS);
    expect(applyDeepDebugGrant({ ...grant, tenantId: 'initech', expiresAt: now })).toBe(false);
    expect(isDeepDebugActive('initech')).toBe(false);

    expect(() => applyDeepDebugGrant({ ...grant, reason: ' ' })).toThrow(ScrubError);
    expect(() => applyDeepDebugGrant({ ...grant, expiresAt: Number.NaN })).toThrow(/expiresAt/);
  });

  it('reports an early end as expired when the authority says so', () => {
    applyDeepDebugGrant({ tenantId: 'acme', actor: 'user:sre-1', reason: 'case 1', enabledAt: now, expiresAt: now + 60_000 });
    expect(disableDeepDebug('acme', { actor: 'system:ttl', expired: true })).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'expired', actor: 'system:ttl' });
  });
});

describe('BusDeepDebugSource', () => {
  it('is on the stream, and makes every following process apply and drop the grant of its tenant only', async () => {
    expect(streamSubjects(PREFIX)).toContain(`${PREFIX}.*.deep_debug.grant`);
    const bus = new InProcessBus();
    const source = new BusDeepDebugSource({ bus, subjectPrefix: PREFIX, durable: 'proc-a' });
    const unfollow = followDeepDebug(source);
    await source.ready();

    const on = state('acme', { id: 'g1', to: 30 * 60_000 }, { state: 'on', grant_id: 'g1', actor: 'user:sre-1', at: at(0) });
    let seen = delivered(source, () => isDeepDebugActive('acme'));
    await publish(bus, 'acme', on, 'm1');
    await seen;
    expect(isDeepDebugActive('globex')).toBe(false);
    // The same state again (a redelivery, a replica's copy) changes nothing and logs nothing.
    seen = delivered(source, () => true);
    await publish(bus, 'acme', on, 'm1-again');
    await seen;
    expect(events.map((e) => e.type)).toEqual(['enabled']);

    seen = delivered(source, () => !isDeepDebugActive('acme'));
    await publish(bus, 'acme', state('acme', null, { state: 'off', grant_id: 'g1', actor: 'user:sre-2', at: at(60_000) }), 'm2');
    await seen;
    expect(events.at(-1)).toEqual({ type: 'disabled', tenantId: 'acme', actor: 'user:sre-2', reason: 'case 1', expiresAt: Date.parse(at(30 * 60_000)) });
    unfollow();
    await source.close();
  });

  it('skips malformed messages and a state older than the one it knows (a consumer catching up)', async () => {
    const bus = new InProcessBus();
    const errors: string[] = [];
    const initial = [state('acme', { id: 'g2', from: 120_000, to: 40 * 60_000 }, { state: 'on', grant_id: 'g2', actor: 'user:sre-1', at: at(120_000) })];
    const source = new BusDeepDebugSource({ bus, subjectPrefix: PREFIX, durable: 'proc-b', initial, onError: (e) => errors.push(e.message) });
    followDeepDebug(source);
    await source.ready();
    expect(isDeepDebugActive('acme')).toBe(true);

    // Each batch is followed by a valid state of another tenant: once that one is applied, the
    // messages before it have been handled.
    const marker = (n: number) => state('globex', { id: `m${n}`, to: 60_000 + n }, { state: 'on', grant_id: `m${n}`, actor: 'user:sre-1', at: at(n) });
    const applied = (n: number) => () => listDeepDebug().some((g) => g.tenantId === 'globex' && g.expiresAt === Date.parse(at(60_000 + n)));
    let seen = delivered(source, applied(1));
    await publish(bus, 'acme', { tenant: 'globex', grant: null, change: null }, 'bad-1'); // another tenant's state on acme's subject
    await publish(bus, 'acme', { tenant: 'acme', grant: { grant_id: 'x', tenant: 'globex', actor: 'a', reason: 'r', enabled_at: at(0), expires_at: at(1000) }, change: null }, 'bad-2');
    await bus.publish(deepDebugSubject('acme', PREFIX), Buffer.from('not json'), { msgId: 'bad-3' });
    await publish(bus, 'globex', marker(1), 'marker-1');
    await seen;
    expect(errors).toEqual([expect.stringMatching(/on subject/), expect.stringMatching(/names tenant "globex"/), expect.stringMatching(/JSON/)]);
    expect(isDeepDebugActive('acme')).toBe(true);

    // The end of an earlier grant, replayed after the later grant is known: skipped.
    seen = delivered(source, applied(2));
    await publish(bus, 'acme', state('acme', null, { state: 'off', grant_id: 'g1', actor: 'user:sre-1', at: at(60_000) }), 'old-off');
    await publish(bus, 'globex', marker(2), 'marker-2');
    await seen;
    expect(isDeepDebugActive('acme')).toBe(true);
    expect(source.current().find((st) => st.tenant === 'acme')?.grant?.grant_id).toBe('g2');
    seen = delivered(source, () => !isDeepDebugActive('acme'));
    await publish(bus, 'acme', state('acme', null, { state: 'expired', grant_id: 'g2', actor: 'system:ttl', at: at(40 * 60_000) }), 'expired');
    await seen;
    expect(events.at(-1)).toMatchObject({ type: 'expired', actor: 'system:ttl' });
    await source.close();
  });
});

describe('HttpDeepDebugSource', () => {
  const body = (tenant: string, grants: unknown[], recent: unknown[] = []) => JSON.stringify({ tenant, state: grants.length ? 'on' : 'off', grants, recent });

  it('polls each tenant with its header and applies what the service answers', async () => {
    const answers = new Map<string, string>([
      ['acme', body('acme', [{ grant_id: 'g1', tenant: 'acme', actor: 'user:sre-1', reason: 'case 1', enabled_at: at(0), expires_at: at(60_000) }])],
      ['globex', body('globex', [])],
    ]);
    const asked: string[] = [];
    const fetchStub = (async (url: string | URL | Request, init?: RequestInit) => {
      const tenant = (init?.headers as Record<string, string>)['x-stella-tenant']!;
      asked.push(`${String(url)} ${tenant} ${(init?.headers as Record<string, string>)['authorization']}`);
      return new Response(answers.get(tenant), { status: 200 });
    }) as typeof fetch;
    const source = new HttpDeepDebugSource({ url: 'http://stella:8080/', tenants: ['acme', 'globex'], headers: { authorization: 'Bearer t' }, fetch: fetchStub, intervalMs: 60_000 });
    const unfollow = followDeepDebug(source);
    await source.pollNow();
    expect(asked.sort()).toEqual(['http://stella:8080/telemetry/deep-debug acme Bearer t', 'http://stella:8080/telemetry/deep-debug globex Bearer t']);
    expect(isDeepDebugActive('acme')).toBe(true);
    expect(isDeepDebugActive('globex')).toBe(false);

    // Switched off: the last ended grant says by whom.
    answers.set('acme', body('acme', [], [{ grant_id: 'g1', tenant: 'acme', actor: 'user:sre-1', reason: 'case 1', enabled_at: at(0), expires_at: at(60_000), ended_at: at(5000), end_reason: 'off', ended_by: 'user:sre-2', off_reason: null }]));
    await source.pollNow();
    expect(isDeepDebugActive('acme')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'disabled', tenantId: 'acme', actor: 'user:sre-2' });
    unfollow();
    await source.close();
  });

  it('keeps the last state on a failed or malformed poll, and reports it', async () => {
    let answer: Response | Error = new Response(body('acme', [{ grant_id: 'g1', tenant: 'acme', actor: 'user:sre-1', reason: 'case 1', enabled_at: at(0), expires_at: at(60_000) }]));
    const errors: string[] = [];
    const source = new HttpDeepDebugSource({
      url: 'http://stella:8080',
      fetch: (async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      }) as typeof fetch,
      intervalMs: 60_000,
      onError: (e) => errors.push(e.message),
    });
    followDeepDebug(source);
    await source.pollNow();
    expect(isDeepDebugActive('acme')).toBe(true);
    for (const next of [new Error('connect ECONNREFUSED'), new Response('{}', { status: 503 }), new Response(body('acme', [{ grant_id: 'g9', tenant: 'globex' }]))]) {
      answer = next;
      await source.pollNow();
    }
    expect(errors).toEqual(['connect ECONNREFUSED', 'deep debug poll: HTTP 503', expect.stringMatching(/names tenant "globex"/)]);
    expect(isDeepDebugActive('acme')).toBe(true);
    // …and the grant still lapses at its own expiry.
    now += 60_000;
    expect(isDeepDebugActive('acme')).toBe(false);
    await source.close();
  });

  it('reads the status body: the grant in force, or how the last one ended', () => {
    expect(parseDeepDebugStatus(JSON.parse(body('acme', [])))).toEqual({ tenant: 'acme', grant: null, change: null });
    const ended = parseDeepDebugStatus(JSON.parse(body('acme', [], [{ grant_id: 'g1', ended_at: at(1000), end_reason: 'ttl', ended_by: 'system:ttl' }])));
    expect(ended.change).toEqual({ state: 'expired', grant_id: 'g1', actor: 'system:ttl', at: at(1000) });
    expect(() => parseDeepDebugStatus({ tenant: 'acme' })).toThrow(/grants/);
  });
});
