/**
 * An event that builds is an event that stores: `ts` in 1970..9999, no NUL and no lone
 * surrogate in any text field or anywhere in `details` (keys and values), bounded nesting.
 * Refused with `timeline.event_invalid` naming the field; nothing is normalised.
 */
import { describe, expect, it } from 'vitest';
import { buildTimelineEvent, decodeTimelineEvent, TimelineError, type TimelineEventInput } from '../../src/timeline/index.js';
import { MAX_DETAILS_DEPTH, unstorableTextReason } from '../../src/timeline/timeline-event.js';

const base: TimelineEventInput = { kind: 'policy.evaluated', tenant_id: 'acme' };

function refusal(input: Partial<TimelineEventInput> & Record<string, unknown>): TimelineError {
  try {
    buildTimelineEvent({ ...base, ...input } as TimelineEventInput);
  } catch (error) {
    expect(error).toBeInstanceOf(TimelineError);
    return error as TimelineError;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

function nested(depth: number, leaf: unknown = 1): Record<string, unknown> {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = { n: value };
  return value as Record<string, unknown>;
}

describe('buildTimelineEvent refuses what the store cannot hold', () => {
  it.each([
    ['0000-01-01T00:00:00Z', 'year 0'],
    ['0001-01-01T00:00:00Z', 'year 1'],
    ['1969-12-31T23:59:59.999Z', 'before 1970'],
    ['10000-01-01T00:00:00Z', 'year 10000 (expanded)'],
    ['+010000-01-01T00:00:00.000Z', 'year 10000 (signed)'],
    ['-000001-01-01T00:00:00.000Z', 'a negative year'],
    ['2025-13-01T00:00:00Z', 'month 13'],
    ['not a date', 'not a date'],
  ])('ts %s (%s)', (ts) => {
    const error = refusal({ ts });
    expect(error.code).toBe('timeline.event_invalid');
    expect(error.field).toBe('ts');
    expect(error.message).toMatch(/1970 to 9999/);
  });

  it('refuses a Date outside 1970..9999 too', () => {
    expect(refusal({ ts: new Date(Date.UTC(10000, 0, 1)) }).field).toBe('ts');
    expect(refusal({ ts: new Date(-1) }).field).toBe('ts');
  });

  it('accepts the edges of the range', () => {
    expect(buildTimelineEvent({ ...base, ts: '1970-01-01T00:00:00Z' }).ts).toBe('1970-01-01T00:00:00.000Z');
    expect(buildTimelineEvent({ ...base, ts: '9999-12-31T23:59:59.999Z' }).ts).toBe('9999-12-31T23:59:59.999Z');
  });

  it.each([
    [{ details: { note: 'a\u0000b' } }, 'details.note', /NUL/],
    [{ details: { 'bad\u0000key': 1 } }, 'details["bad\\u0000key"]', /key contains NUL/],
    [{ details: { a: { b: ['ok', 'x\ud800'] } } }, 'details.a.b[1]', /lone surrogate \(U\+D800\)/],
    [{ details: { a: { '\udc00': true } } }, 'details.a["\\udc00"]', /key contains a lone surrogate/],
    [{ details: { foo: { bar: 'trailing high \udbff' } } }, 'details.foo.bar', /lone surrogate/],
    [{ details: { foo: { bar: 'reversed pair \udc00\ud800' } } }, 'details.foo.bar', /lone surrogate \(U\+DC00\)/],
    [{ resource_id: 'r\ud800' }, 'resource_id', /lone surrogate/],
    [{ actor: 'svc\udfff' }, 'actor', /lone surrogate/],
    [{ project_id: 'p\ud83d' }, 'project_id', /lone surrogate/],
    [{ resource_type: 'sbom\u0000' }, 'resource_type', /printable/],
  ])('%j is refused naming %s', (input, field, message) => {
    const error = refusal(input as Record<string, unknown>);
    expect(error.code).toBe('timeline.event_invalid');
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('keeps well-formed text as it is, astral characters included', () => {
    const details = { emoji: '🔥 ok', '鍵': 'värde', list: ['𝔘𝔫𝔦𝔠𝔬𝔡𝔢'] };
    const event = buildTimelineEvent({ ...base, resource_id: 'sbom-🔥', details, ts: '2025-01-01T00:00:00Z' });
    expect(event.details).toEqual(details);
    expect(event.resource_id).toBe('sbom-🔥');
  });

  it(`limits nesting to ${MAX_DETAILS_DEPTH} levels, without exhausting the stack on hostile depth`, () => {
    // nested(n) is n levels of objects, the root `details` being the first.
    expect(() => buildTimelineEvent({ ...base, details: nested(MAX_DETAILS_DEPTH) })).not.toThrow();
    const error = refusal({ details: nested(MAX_DETAILS_DEPTH + 1) });
    expect(error.field).toBe(`details${'.n'.repeat(MAX_DETAILS_DEPTH)}`);
    expect(error.message).toMatch(/at most 32 levels/);
    const deep = refusal({ details: nested(200_000) });
    expect(deep.code).toBe('timeline.event_invalid');
    const arrays = JSON.parse(`{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`) as Record<string, unknown>;
    expect(refusal({ details: arrays }).field).toMatch(/^details\.a(\[0\])+$/);
  });

  it('refuses a cycle instead of looping', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(refusal({ details: cyclic }).code).toBe('timeline.event_invalid');
  });

  it('refuses huge details by size', () => {
    expect(refusal({ details: { blob: 'x'.repeat(1_000_000) } }).code).toBe('timeline.details_too_large');
  });

  it('applies the same rules when decoding a bus message (a crafted message cannot bypass them)', () => {
    const good = buildTimelineEvent({ ...base, ts: '2025-01-01T00:00:00Z', details: { ok: 1 } });
    for (const [patch, field] of [
      [{ ts: '0000-01-01T00:00:00.000Z' }, 'ts'],
      [{ details: { v: 'a\u0000' } }, 'details.v'],
      [{ details: { v: '\ud800' } }, 'details.v'],
    ] as const) {
      const crafted = Buffer.from(JSON.stringify({ ...good, ...patch }));
      expect(() => decodeTimelineEvent(crafted)).toThrow(expect.objectContaining({ code: 'timeline.event_invalid', field }) as Error);
    }
  });

  it('unstorableTextReason: NUL and lone surrogates only', () => {
    expect(unstorableTextReason('plain')).toBeUndefined();
    expect(unstorableTextReason('pair 😀')).toBeUndefined();
    expect(unstorableTextReason('\u0000')).toMatch(/NUL/);
    expect(unstorableTextReason('\ud800')).toMatch(/D800/);
    expect(unstorableTextReason('\udfff')).toMatch(/DFFF/);
    expect(unstorableTextReason('tab\tand newline\n')).toBeUndefined();
  });
});
