import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { ForensicsError, jcs, jcsBytes } from '../src/index.js';

/** An IEEE 754 double from its 16 hex digits (RFC 8785 Appendix B). */
function double(hex: string): number {
  const b = Buffer.from(hex, 'hex');
  return b.readDoubleBE(0);
}

describe('RFC 8785 JSON Canonicalization Scheme', () => {
  it('canonicalizes the RFC 8785 §3.2.2 sample', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(jcs(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3), integer-like names too', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(jcs(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // JavaScript enumerates integer-like names numerically; JCS sorts them as strings.
    expect(jcs({ '9': 1, '10': 2, b: { z: 1, a: [{ y: 1, x: 2 }] } })).toBe('{"10":2,"9":1,"b":{"a":[{"x":2,"y":1}],"z":1}}');
  });

  it('serializes numbers as RFC 8785 Appendix B lists', () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, text] of cases) expect(jcs(double(hex)), hex).toBe(text);
    for (const bad of ['7ff0000000000000', 'fff0000000000000', '7fffffffffffffff']) expect(() => jcs(double(bad))).toThrow(/finite/);
  });

  it('refuses what is not I-JSON or not plain JSON, and round-trips what is', () => {
    expect(() => jcs({ s: 'a\ud800b' })).toThrow(/lone surrogate/);
    expect(() => jcs({ ['\udc00']: 1 })).toThrow(/lone surrogate/);
    expect(jcs('\ud83d\ude00')).toBe('"\ud83d\ude00"');
    expect(() => jcs(new Map([['a', 1]]))).toThrow(/plain/);
    expect(() => jcs({ f: () => 1 })).toThrow(/function/);
    expect(() => jcs(10n)).toThrow(/bigint/);
    expect(jcs({ a: undefined, b: [undefined, 1], d: new Date('2025-01-01T00:00:00Z') })).toBe('{"b":[null,1],"d":"2025-01-01T00:00:00.000Z"}');
    expect(jcs('\u2028\u2029\u007f\u001f')).toBe('"\u2028\u2029\u007f\\u001f"');
    const value = { z: [1, 2.5, -0, 'x', { q: null, p: true }], a: 'é' };
    expect(jcs(JSON.parse(jcs(value)))).toBe(jcs(value));
  });
});

describe('jcs is the canonicalize package, with I-JSON checks in front', () => {
  const refusal = (value: unknown): ForensicsError => {
    try {
      jcs(value);
    } catch (e) {
      return e as ForensicsError;
    }
    throw new Error('accepted');
  };

  it('writes the bytes canonicalize writes for every JSON value', () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -0,
      1e21,
      'x',
      [],
      {},
      { b: [1, { d: 'é', c: null }], a: { '10': 1, '9': 2, '': 3 } },
      { s: '\u0000\u001f\u007f\u2028"\\/' },
      Object.assign(Object.create(null) as object, { z: 1, y: [true, false] }),
    ];
    for (const v of values) expect(jcs(v)).toBe(canonicalize(v));
    expect(jcsBytes({ a: 'é' }).equals(Buffer.from(canonicalize({ a: 'é' })!, 'utf8'))).toBe(true);
  });

  it('names where a refused value sits, with code invalid_argument', () => {
    const cases: [unknown, RegExp][] = [
      [{ files: [{ path: 'a' }, { path: 'b', size: NaN }] }, /^\$\.files\[1\]\.size is not a finite number$/],
      [{ a: { b: Infinity } }, /^\$\.a\.b is not a finite number$/],
      [{ a: ['x', 'y\udc00'] }, /^\$\.a\[1\] holds a lone surrogate/],
      [{ a: { ['k\ud800']: 1 } }, /^\$\.a member name holds a lone surrogate/],
      [{ a: [1, () => 1] }, /^\$\.a\[1\] has a type JSON cannot hold \(function\)$/],
      [{ a: Symbol('s') }, /^\$\.a has a type JSON cannot hold \(symbol\)$/],
      [[Symbol('s')], /^\$\[0\] has a type JSON cannot hold \(symbol\)$/],
      [{ n: 1n }, /^\$\.n has a type JSON cannot hold \(bigint\)$/],
      [{ m: new Map() }, /^\$\.m is a Map object, not plain JSON$/],
      [{ s: new Set([1]) }, /^\$\.s is a Set object, not plain JSON$/],
      [{ u: new Uint8Array(2) }, /^\$\.u is a Uint8Array object, not plain JSON$/],
      [{ c: new (class Finding {})() }, /^\$\.c is a Finding object, not plain JSON$/],
      [undefined, /^\$ has a type JSON cannot hold \(undefined\)$/],
    ];
    for (const [value, message] of cases) {
      const e = refusal(value);
      expect(e).toBeInstanceOf(ForensicsError);
      expect(e.code).toBe('invalid_argument');
      expect(e.message).toMatch(message);
    }
  });

  it('leaves out undefined members, writes undefined and holes in arrays as null', () => {
    // canonicalize alone would write a hole as nothing ("[,1]"), which is not JSON.
    // eslint-disable-next-line no-sparse-arrays
    expect(jcs({ a: undefined, b: [undefined, , 1] })).toBe('{"b":[null,null,1]}');
    expect(jcs([undefined])).toBe('[null]');
  });

  it('calls toJSON once and checks its result, as JSON.stringify would', () => {
    let calls = 0;
    const once = { toJSON: () => ({ n: ++calls }) };
    expect(jcs({ v: once, w: [once] })).toBe('{"v":{"n":1},"w":[{"n":2}]}');
    expect(calls).toBe(2);
    expect(jcs({ d: new Date(0), u: new URL('https://example.com/a?b') })).toBe('{"d":"1970-01-01T00:00:00.000Z","u":"https://example.com/a?b"}');
    // A toJSON result is not resolved again: a Date there is a non-plain object.
    expect(refusal({ t: { toJSON: () => new Date(0) } }).message).toMatch(/^\$\.t is a Date object, not plain JSON$/);
    expect(refusal({ t: { toJSON: () => NaN } }).message).toMatch(/^\$\.t is not a finite number$/);
    // The input is not changed when a copy is serialized.
    const input = { when: new Date(0), list: [undefined] };
    jcs(input);
    expect(input.when).toBeInstanceOf(Date);
    expect(input.list).toEqual([undefined]);
  });

  it('keeps a member named __proto__ a member when a copy is made', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"d":null}') as Record<string, unknown>;
    value['d'] = new Date(0);
    expect(jcs(value)).toBe('{"__proto__":{"x":1},"d":"1970-01-01T00:00:00.000Z"}');
  });

  it('refuses nesting deeper than 1000 levels and cycles, without exhausting the stack', () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = [v];
      return v;
    };
    expect(jcs(nest(1000))).toBe(`${'['.repeat(1000)}1${']'.repeat(1000)}`);
    expect(refusal(nest(1001)).message).toMatch(/nests deeper than 1000 levels$/);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const e = refusal(cycle);
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toBe(`$${'.self'.repeat(16)}…${'.self'.repeat(3)}.a nests deeper than 1000 levels`);
  });
});
