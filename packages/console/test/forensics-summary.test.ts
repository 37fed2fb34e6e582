/** How a timeline event reads in a list: its details in one line, its resource, and whether "Why is this red?" applies. */
import { describe, expect, it } from 'vitest';
import { isDeniedDecision, redReason, resourceOf, summariseDetails } from '../src/forensics/event-summary.js';

const DIGEST = `sha256:${'0'.repeat(64)}`;

describe('details in one line', () => {
  it('puts a failed job\'s error first and leaves digests out', () => {
    expect(
      summariseDetails({
        type: 'advisory.ingest',
        error_message: 'feed partner-osv: advisory PARTNER-1 refused',
        error_code: 'advisory.malformed',
        document_digest: DIGEST,
      }),
    ).toBe('advisory.malformed · feed partner-osv: advisory PARTNER-1 refused · type advisory.ingest');
  });

  it('reads a policy evaluation: verdict, counts, then the rest', () => {
    expect(
      summariseDetails({
        evaluation_id: 'eval-1',
        policy_version: 'baseline@7',
        policy_digest: DIGEST,
        verdict: 'deny',
        decisions: { deny: 2, warn: 1, allow: 5 },
        decisions_digest: DIGEST,
        rule_ids: ['R-1', 'R-2', 'R-3', 'R-4', 'R-5'],
        custody: { step: 'policy.eval', subject: 'sbom:x', input_digest: DIGEST },
      }),
    ).toBe('verdict deny · decisions deny 2, warn 1, allow 5 · policy_version baseline@7 · evaluation_id eval-1 · rule_ids R-1, R-2, R-3 +2 · custody step policy.eval');
  });

  it('names a large or nested object by its size, and an array of objects by its length', () => {
    expect(summariseDetails({ result: { a: 1, b: 2, c: 3, d: 4, e: 5 }, links: [{ x: 1 }, { x: 2 }], nested: { deep: { x: 1 } } })).toBe('result {5 fields} · links [2] · nested {1 field}');
    expect(summariseDetails({ flag: true, none: null, n: 0 })).toBe('flag true · none null · n 0');
  });

  it('is cut with an ellipsis, and whitespace is folded', () => {
    const line = summariseDetails({ reason: `a\n${'x'.repeat(300)}` }, 40);
    expect(line).toHaveLength(40);
    expect(line.endsWith('…')).toBe(true);
    expect(line.startsWith('a x')).toBe(true);
  });

  it('is empty for no details', () => {
    expect(summariseDetails({})).toBe('');
    expect(summariseDetails(undefined)).toBe('');
  });
});

describe('resource and red events', () => {
  it('writes the resource as type/id', () => {
    expect(resourceOf({ resource_type: 'job', resource_id: 'j-1' })).toBe('job/j-1');
    expect(resourceOf({ resource_type: null, resource_id: 'j-1' })).toBe('j-1');
    expect(resourceOf({ resource_type: 'tenant', resource_id: null })).toBe('tenant');
    expect(resourceOf({ resource_type: null, resource_id: null })).toBe('');
  });

  it('a failed job and a denied decision are red; an allowed decision and a finished job are not', () => {
    expect(redReason({ kind: 'job.failed', details: { error_code: 'x' } })).toBe('job failed');
    expect(redReason({ kind: 'policy.evaluated', details: { verdict: 'deny' } })).toBe('denied');
    expect(redReason({ kind: 'authz.decided', details: { effect: 'DENY' } })).toBe('denied');
    expect(redReason({ kind: 'decision.logged', details: { decision_effect: 'deny' } })).toBe('denied');
    expect(redReason({ kind: 'policy.evaluated', details: { verdict: 'warn', decisions: { deny: 0 } } })).toBeUndefined();
    expect(redReason({ kind: 'job.finished', details: {} })).toBeUndefined();
    expect(isDeniedDecision({ details: { effect: 'allow' } })).toBe(false);
  });
});
