/** The `traceparent` of each API call (CON-4): a fresh, valid, sampled W3C trace context, and reading one back. */
import { describe, expect, it } from 'vitest';
import { newTraceparent, traceIdInput, traceIdOf } from '../src/api/traceparent.js';

describe('newTraceparent', () => {
  it('is version 00, a 32-hex trace id, a 16-hex span id, sampled', () => {
    const tp = newTraceparent();
    expect(tp.header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(tp.header).toBe(`00-${tp.traceId}-${tp.spanId}-01`);
    expect(traceIdOf(tp.header)).toBe(tp.traceId);
  });

  it('starts a new trace every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newTraceparent().traceId));
    expect(ids.size).toBe(1000);
  });

  it('draws again when the random source gives an all-zero id, and gives up on a source that only does', () => {
    const draws: Uint8Array[] = [new Uint8Array(16), Uint8Array.from({ length: 16 }, (_, i) => i + 1), new Uint8Array(8), Uint8Array.from({ length: 8 }, () => 0xab)];
    const tp = newTraceparent((n) => {
      const next = draws.shift()!;
      expect(next.length).toBe(n);
      return next;
    });
    expect(tp.header).toBe('00-0102030405060708090a0b0c0d0e0f10-abababababababab-01');
    expect(() => newTraceparent((n) => new Uint8Array(n))).toThrow(/no usable id/);
  });
});

describe('reading a trace id', () => {
  it('takes the trace id of a valid traceparent, whatever its case and flags', () => {
    expect(traceIdOf('00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(' 01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03 ')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('refuses invalid ones', () => {
    for (const bad of [null, undefined, '', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, '00-4bf92f35-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7']) {
      expect(traceIdOf(bad), String(bad)).toBeUndefined();
    }
  });

  it('understands what a user types into "Trace ID": an id or a whole traceparent', () => {
    expect(traceIdInput('  4BF92F3577B34DA6A3CE929D0E0E4736 ')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdInput('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const bad of ['', '4bf92f', '0'.repeat(32), 'g'.repeat(32), '4bf92f3577b34da6a3ce929d0e0e4736x']) expect(traceIdInput(bad), bad).toBeUndefined();
  });
});
