import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withContext } from '../../src/context/context.js';
import {
  ScrubError,
  compileScrubPolicy,
  disableDeepDebug,
  enableDeepDebug,
  isDeepDebugActive,
  listDeepDebug,
  onDeepDebugChange,
  scrubText,
  scrubValue,
  setScrubClock,
  type DeepDebugEvent,
} from '../../src/scrub/index.js';

let now = 1_700_000_000_000;
const events: DeepDebugEvent[] = [];
let unsubscribe: () => void = () => {};
let run = 0;
let tenantA = '';
let tenantB = '';

beforeEach(() => {
  run++;
  tenantA = `tenant-a-${run}`;
  tenantB = `tenant-b-${run}`;
  setScrubClock(() => now);
  events.length = 0;
  unsubscribe = onDeepDebugChange((e) => events.push(e));
});

afterEach(() => {
  unsubscribe();
  for (const g of listDeepDebug()) disableDeepDebug(g.tenantId, { actor: 'test-cleanup' });
  setScrubClock();
});

const line = `user henry@example.com opened /home/henry/report.csv with token=${'abc' + '123XYZ'} and ${'gh' + 'p_'}${'a1B2'.repeat(9)}`;

describe('deep debug', () => {
  it('relaxes e-mail and path redaction for the granted tenant only, never secrets', () => {
    const grant = enableDeepDebug(tenantA, { ttlMs: 60_000, actor: 'sre@stella', reason: 'INC-42' });
    expect(grant).toMatchObject({ tenantId: tenantA, expiresAt: now + 60_000 });

    const forA = compileScrubPolicy({ tenantId: tenantA });
    const outA = scrubText(line, forA);
    expect(outA).toContain('henry@example.com');
    expect(outA).toContain('/home/henry/report.csv');
    expect(outA).toContain('token=[REDACTED:key]');
    expect(outA).toContain('[REDACTED:github-token]');

    const outB = scrubText(line, { tenantId: tenantB });
    expect(outB).toBe('user [REDACTED:email] opened [REDACTED:path] with token=[REDACTED:key] and [REDACTED:github-token]');
    expect(scrubText(line)).toBe(outB); // no tenant at all: fully redacted
  });

  it('follows the active context tenant when the policy names none', () => {
    enableDeepDebug(tenantA, { ttlMs: 1_000, actor: 'sre', reason: 'debug' });
    const policy = compileScrubPolicy();
    expect(withContext({ tenant_id: tenantA }, () => scrubText('mail ivan@example.com', policy))).toBe('mail ivan@example.com');
    expect(withContext({ tenant_id: tenantB }, () => scrubText('mail ivan@example.com', policy))).toBe('mail [REDACTED:email]');
    expect(withContext({ tenant_id: tenantA }, () => scrubValue({ password: 'p', who: 'ivan@example.com' }, policy))).toEqual({
      password: '[REDACTED:key]',
      who: 'ivan@example.com',
    });
  });

  it('reverts after the TTL and reports the expiry exactly once', () => {
    enableDeepDebug(tenantA, { ttlMs: 5_000, actor: 'sre', reason: 'INC-7' });
    expect(events).toEqual([{ type: 'enabled', tenantId: tenantA, actor: 'sre', reason: 'INC-7', expiresAt: now + 5_000 }]);
    const expiresAt = now + 5_000;

    now += 4_999;
    expect(isDeepDebugActive(tenantA)).toBe(true);
    expect(scrubText('x judy@example.com', { tenantId: tenantA })).toBe('x judy@example.com');

    now += 1;
    expect(scrubText('x judy@example.com', { tenantId: tenantA })).toBe('x [REDACTED:email]');
    expect(isDeepDebugActive(tenantA)).toBe(false);
    expect(listDeepDebug().find((g) => g.tenantId === tenantA)).toBeUndefined();
    const expired = events.filter((e) => e.type === 'expired');
    expect(expired).toEqual([{ type: 'expired', tenantId: tenantA, actor: 'sre', reason: 'INC-7', expiresAt }]);
  });

  it('can be disabled early, which is reported with the actor', () => {
    enableDeepDebug(tenantA, { ttlMs: 60_000, actor: 'sre', reason: 'x' });
    enableDeepDebug(tenantB, { ttlMs: 60_000, actor: 'sre', reason: 'y' });
    expect(listDeepDebug().map((g) => g.tenantId)).toEqual([tenantA, tenantB]);
    expect(disableDeepDebug(tenantA, { actor: 'lead' })).toBe(true);
    expect(disableDeepDebug(tenantA, { actor: 'lead' })).toBe(false);
    expect(isDeepDebugActive(tenantA)).toBe(false);
    expect(isDeepDebugActive(tenantB)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'disabled', tenantId: tenantA, actor: 'lead' });
  });

  it('validates its input with a stable code', () => {
    const bad: [string, { ttlMs: number; actor: string; reason: string }][] = [
      ['', { ttlMs: 1000, actor: 'a', reason: 'r' }],
      [tenantA, { ttlMs: 0, actor: 'a', reason: 'r' }],
      [tenantA, { ttlMs: 25 * 3600_000, actor: 'a', reason: 'r' }],
      [tenantA, { ttlMs: 1000, actor: '', reason: 'r' }],
      [tenantA, { ttlMs: 1000, actor: 'a', reason: ' ' }],
    ];
    for (const [tenant, options] of bad) {
      expect(() => enableDeepDebug(tenant, options)).toThrow(ScrubError);
      try {
        enableDeepDebug(tenant, options);
      } catch (err) {
        expect((err as ScrubError).code).toBe('DEEP_DEBUG_INVALID');
      }
    }
    expect(events).toEqual([]);
  });

  it('keeps working when a listener throws', () => {
    const off = onDeepDebugChange(() => {
      throw new Error('listener broke');
    });
    expect(() => enableDeepDebug(tenantA, { ttlMs: 10, actor: 'a', reason: 'r' })).not.toThrow();
    off();
    expect(events).toHaveLength(1);
  });
});
