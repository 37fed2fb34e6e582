import { describe, expect, it } from 'vitest';
import { createLogger, logDecision, onDecision, withContext, type DecisionRecord } from '../../src/index.js';
import { captureStream } from '../helpers.js';

describe('logDecision', () => {
  it('writes one structured record with the fixed fields and notifies listeners', () => {
    const out = captureStream();
    const log = createLogger({ service: 'policy-engine', destination: out.stream });
    const seen: DecisionRecord[] = [];
    const stop = onDecision((r) => seen.push(r));
    const record = withContext({ tenant_id: 'acme', actor: 'svc:runner' }, () =>
      logDecision(
        {
          kind: 'policy',
          effect: 'deny',
          reason: 'fixable critical CVE-2024-3094 not covered by VEX',
          policy_version: 'baseline@7',
          rule_ids: ['R-CRIT-FIXABLE'],
          resource: 'pkg:npm/lodash@4.17.20',
          action: 'evaluate',
        },
        log,
      ),
    );
    stop();
    expect(seen).toEqual([record]);
    const line = out.lines()[0]!;
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'decision.policy',
      decision_kind: 'policy',
      decision_effect: 'deny',
      decision_reason: 'fixable critical CVE-2024-3094 not covered by VEX',
      policy_version: 'baseline@7',
      rule_ids: ['R-CRIT-FIXABLE'],
      resource: 'pkg:npm/lodash@4.17.20',
      tenant_id: 'acme',
      actor: 'svc:runner',
    });
  });

  it('scrubs PII from reasons and rejects unknown kinds', () => {
    const out = captureStream();
    const log = createLogger({ service: 'authz', destination: out.stream });
    const r = logDecision({ kind: 'authz', effect: 'deny', reason: 'token of bob@example.org lacks scope', scope: 'stella:evidence:read#tenant/acme' }, log);
    expect(r.reason).not.toContain('bob@example.org');
    expect(out.raw().join('')).not.toContain('bob@example.org');
    expect(() => logDecision({ kind: 'other' as 'authz', effect: 'allow', reason: 'x' }, log)).toThrow(/kind/);
  });
});
