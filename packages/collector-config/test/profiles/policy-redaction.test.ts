/**
 * One policy, two enforcement points: the Collector's redaction settings come from the same
 * policy file and built-in lists telemetry-core's scrubber applies, and every value rule the
 * Collector gets redacts what the library redacts (on samples generated here) in RE2 syntax.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_ALLOW_KEYS, BUILT_IN_REDACT_KEYS, parseTelemetryPolicy } from '@stellaops/telemetry-core/policy';
import { REDACTION_CLASSES, scrubText, scrubValue } from '@stellaops/telemetry-core';
import { redactionFromPolicy, renderProfile, UNMAPPED_POLICY_BEHAVIOUR, VALUE_RULES } from '../../src/index.ts';
import { FIXTURE_POLICY } from './fixtures.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Random characters from `alphabet`, generated per run: no secret-shaped fixture is committed. */
function rand(n: number, alphabet = ALNUM): string {
  const bytes = randomBytes(n);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
const b64url = (n: number): string => rand(n, `${ALNUM}-_`);

/** Per class, text carrying a value of that class, built at test time. */
const SAMPLES: Record<string, () => string> = {
  'private-key': () => `key: -----BEGIN RSA PRIVATE KEY-----\n${rand(64)}\n${rand(64)}\n-----END RSA PRIVATE KEY----- end`,
  jwt: () => `token eyJ${b64url(20)}.eyJ${b64url(30)}.${b64url(40)} sent`,
  'url-credentials': () => `connecting to postgres://app:${rand(12)}@db.internal:5432/app`,
  bearer: () => `header Bearer ${rand(32)} was sent`,
  email: () => `mail ${rand(8).toLowerCase()}@example.com failed`,
  'aws-access-key': () => `key AKIA${rand(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')} used`,
  'gcp-api-key': () => `key AIza${rand(35, `${ALNUM}_-`)} used`,
  'github-token': () => `token ghp_${rand(36)} used`,
  'gitlab-token': () => `token glpat-${rand(20)} used`,
  'slack-token': () => `token xoxb-${rand(12, '0123456789')}-${rand(24)} used`,
  'stripe-key': () => `key sk_live_${rand(24)} used`,
  'npm-token': () => `token npm_${rand(36)} used`,
  'vault-token': () => `token hvs.${rand(90, `${ALNUM}_-`)} used`,
};

/** RE2 (Go's regexp) has no look-around and no back-references; JavaScript reads the rest alike. */
function re2Compatible(pattern: string): boolean {
  return !/\(\?[=!<]|\(\?<[=!]|\\[1-9]|\\k</.test(pattern);
}

function js(pattern: string): RegExp {
  return pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'gi') : new RegExp(pattern, 'g');
}

describe('redactionFromPolicy', () => {
  it('ignores the built-in allowlist plus the policy\'s keys (lower case), and masks values under the built-in key substrings plus the policy\'s', () => {
    const m = redactionFromPolicy(FIXTURE_POLICY);
    expect(m.ignoredKeys).toEqual([...new Set([...BUILT_IN_ALLOW_KEYS, 'token_count', 'contact_role'])].sort());
    expect(m.blockedKeyPatterns).toEqual([...BUILT_IN_REDACT_KEYS, 'ssn', 'badge\\.number'].map((k) => `(?i)${k}`).sort());
    expect(m.maxStringLength).toBe(4096);
    expect(redactionFromPolicy(parseTelemetryPolicy('version: 1\n', 'empty.yaml')).maxStringLength).toBe(32768);
  });

  it('decides keys as the library does: allowlist first, then key substrings anywhere in the key, any case', () => {
    const m = redactionFromPolicy(FIXTURE_POLICY);
    const collectorMasks = (key: string): boolean => !m.ignoredKeys.includes(key) && m.blockedKeyPatterns.some((p) => js(p).test(key));
    const policy = { allowKeys: FIXTURE_POLICY.allowKeys, redactKeys: FIXTURE_POLICY.redactKeys };
    for (const key of ['token_count', 'user_password', 'X-Session-Id', 'customer_ssn', 'badge.number', 'badgeXnumber', 'http.route', 'trace_id', 'db.secret_ref', 'api-key']) {
      const libraryMasks = (scrubValue({ [key]: 'value-1234' }, policy) as Record<string, unknown>)[key] === '[REDACTED:key]';
      expect(collectorMasks(key), key).toBe(libraryMasks);
    }
  });

  it('carries value rules for library classes only, in RE2 syntax, each redacting what the library redacts', () => {
    expect(VALUE_RULES.map((r) => r.cls).sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const rule of VALUE_RULES) {
      expect(REDACTION_CLASSES as readonly string[], rule.cls).toContain(rule.cls);
      expect(re2Compatible(rule.pattern), rule.pattern).toBe(true);
      for (let i = 0; i < 20; i++) {
        const sample = SAMPLES[rule.cls]!();
        expect(scrubText(sample), `${rule.cls}: the library redacts ${JSON.stringify(sample)}`).toContain(`[REDACTED:${rule.cls}]`);
        const masked = sample.replace(js(rule.pattern), '****');
        expect(masked, `${rule.cls}: the Collector rule matches ${JSON.stringify(sample)}`).not.toBe(sample);
        // What the library took out, the Collector takes out too.
        const secretPart = sample.split(' ').find((w) => !scrubText(w).includes(w) && w.length > 8);
        if (secretPart) expect(masked, rule.cls).not.toContain(secretPart);
      }
    }
  });

  it('leaves ordinary values alone', () => {
    for (const text of ['GET /api/v1/runs 200', 'policy-engine evaluated 5000 components in 1.8 s', 'sha256:' + 'ab'.repeat(32), 'Basic setup complete', 'token_count=12']) {
      for (const rule of VALUE_RULES) expect(js(rule.pattern).test(text), `${rule.cls} on ${text}`).toBe(false);
    }
  });

  it('says what it cannot map', () => {
    expect(UNMAPPED_POLICY_BEHAVIOUR.join('\n')).toMatch(/repoRoot/);
    expect(UNMAPPED_POLICY_BEHAVIOUR.join('\n')).toMatch(/deep debug/);
  });
});

describe('in the rendered profile', () => {
  it('the redaction processor keeps unknown keys, ignores allowlisted ones, masks by key and value, and counts what it did', () => {
    const { config, model } = renderProfile('default', { policy: FIXTURE_POLICY });
    expect(config.processors!['redaction/policy']).toEqual({
      allow_all_keys: true,
      ignored_keys: model.redaction.ignoredKeys,
      blocked_key_patterns: model.redaction.blockedKeyPatterns,
      blocked_values: VALUE_RULES.map((r) => r.pattern),
      summary: 'info',
    });
  });

  it('the transform processor cuts attribute strings at the policy\'s maxStringLength, for every signal', () => {
    const { config } = renderProfile('forensic', { policy: FIXTURE_POLICY });
    const t = config.processors!['transform/policy'] as Record<string, { context: string; statements: string[] }[]>;
    expect(t['trace_statements']!.map((s) => s.context)).toEqual(['resource', 'span', 'spanevent']);
    expect(t['metric_statements']!.map((s) => s.context)).toEqual(['resource', 'datapoint']);
    expect(t['log_statements']!.map((s) => s.context)).toEqual(['resource', 'log']);
    for (const list of [t['trace_statements']!, t['metric_statements']!, t['log_statements']!]) {
      for (const s of list) expect(s.statements).toEqual(['truncate_all(attributes, 4096)']);
    }
  });

  it('a policy change changes the profile, and the header names the policy by digest', () => {
    const a = renderProfile('default', { policy: FIXTURE_POLICY });
    const b = renderProfile('default', { policy: { ...FIXTURE_POLICY, redactKeys: [...FIXTURE_POLICY.redactKeys, 'iban'] } });
    expect(b.model.redaction.policyDigest).not.toBe(a.model.redaction.policyDigest);
    expect(b.model.redaction.blockedKeyPatterns).toContain('(?i)iban');
  });
});
