/**
 * Timeline digests and bus bytes are RFC 8785 as the `canonicalize` package writes them (the
 * package the forensics library's jcs uses too), behind checks that refuse, naming the member,
 * what JSON cannot hold instead of dropping it or writing `{}`.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import {
  buildTimelineEvent,
  canonicalJson,
  CanonicalJsonError,
  encodeTimelineEvent,
  TimelineError,
  timelineEventDigest,
  type TimelineEventInput,
} from '../../src/timeline/index.js';

const base: TimelineEventInput = { kind: 'policy.evaluated', tenant_id: 'acme', event_id: '0195a3c0-0000-7000-8000-000000000001', ts: '2025-01-01T00:00:00Z' };

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('accepted');
}

describe('canonicalJson', () => {
  it('writes the bytes canonicalize writes', () => {
    const values: unknown[] = [null, false, -0, 1e-7, 'é\u2028', [1, [2]], { b: 1, a: { '10': 1, '9': 2 } }, { s: '\u0000"\\' }];
    for (const v of values) expect(canonicalJson(v)).toBe(canonicalize(v));
  });

  it('writes toJSON results (once), drops undefined members and writes undefined items and holes as null', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson({ d: new Date(0), u: undefined, a: [undefined, , 1] })).toBe('{"a":[null,null,1],"d":"1970-01-01T00:00:00.000Z"}');
    let calls = 0;
    expect(canonicalJson({ x: { toJSON: () => ++calls } })).toBe('{"x":1}');
    expect(calls).toBe(1);
  });

  it('refuses what JSON cannot hold with a CanonicalJsonError saying where', () => {
    const cases: [unknown, (string | number)[], RegExp][] = [
      [{ a: { f: () => 1 } }, ['a', 'f'], /function/],
      [{ n: [0, 1n] }, ['n', 1], /bigint/],
      [{ s: Symbol('s') }, ['s'], /symbol/],
      [{ x: NaN }, ['x'], /finite/],
      [{ x: -Infinity }, ['x'], /finite/],
      [{ m: new Map([['k', 1]]) }, ['m'], /Map object, not plain JSON/],
      [{ c: new (class Finding {})() }, ['c'], /Finding object, not plain JSON/],
      [{ t: 'a\ud800' }, ['t'], /lone surrogate/],
      [{ ['k\udc00']: 1 }, [], /member name with a lone surrogate/],
    ];
    for (const [value, trail, reason] of cases) {
      const e = refusal(() => canonicalJson(value)) as CanonicalJsonError;
      expect(e).toBeInstanceOf(CanonicalJsonError);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.trail).toEqual(trail);
      expect(e.reason).toMatch(reason);
    }
    expect((refusal(() => canonicalJson({ a: [{ b: 1n }] })) as Error).message).toBe('canonical JSON cannot encode $.a[0].b: it has a type JSON cannot hold (bigint)');
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect((refusal(() => canonicalJson(cycle)) as Error).message).toMatch(/nests deeper than 1000 levels$/);
  });
});

describe('timeline events', () => {
  it('refuse details JSON cannot hold with timeline.event_invalid naming the member', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ a: { f: () => 1 } }, 'details.a.f'],
      [{ n: 10n }, 'details.n'],
      [{ list: [1, NaN] }, 'details.list[1]'],
      [{ 'odd key': new Map() }, 'details["odd key"]'],
      [{ s: Symbol('s') }, 'details.s'],
    ];
    for (const [details, field] of cases) {
      const e = refusal(() => buildTimelineEvent({ ...base, details })) as TimelineError;
      expect(e).toBeInstanceOf(TimelineError);
      expect(e.code).toBe('timeline.event_invalid');
      expect(e.field).toBe(field);
      expect(e.message.startsWith(`${field} `)).toBe(true);
      expect(e.cause).toBeInstanceOf(CanonicalJsonError);
    }
  });

  it('store details as their JSON (a Date as its ISO string) and hash and publish canonicalize bytes', () => {
    const event = buildTimelineEvent({ ...base, details: { when: new Date(0), skipped: undefined, z: [1, { y: 2, b: 3 }] } });
    expect(event.details).toEqual({ when: '1970-01-01T00:00:00.000Z', z: [1, { b: 3, y: 2 }] });
    const { digest, ...rest } = event;
    expect(digest).toBe(`sha256:${createHash('sha256').update(canonicalize(rest)!).digest('hex')}`);
    expect(timelineEventDigest(event)).toBe(digest);
    expect(Buffer.from(encodeTimelineEvent(event)).toString('utf8')).toBe(canonicalize(event));
  });
});
