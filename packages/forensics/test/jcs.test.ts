import { describe, expect, it } from 'vitest';
import { jcs } from '../src/index.js';

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
