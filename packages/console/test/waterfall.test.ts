/** The waterfall's layout: call order, depth, bars on the trace's time axis, and which error is the first. */
import { describe, expect, it } from 'vitest';
import { layoutWaterfall, MIN_BAR_PCT, type WaterfallSpan } from '../src/trace/waterfall.js';

const T0 = 1_700_000_000_000_000_000n;

/** A span from `startMs` to `endMs` after T0. */
function span(id: string, parent: string | null, startMs: number, endMs: number, code = 'UNSET'): WaterfallSpan & { name: string } {
  const at = (ms: number) => (T0 + BigInt(Math.round(ms * 1e6))).toString();
  return { span_id: id, parent_span_id: parent, start_time_unix_nano: at(startMs), end_time_unix_nano: at(endMs), status: { code }, name: id };
}

describe('layoutWaterfall', () => {
  it('orders spans parent first, siblings by start, whatever order they arrive in, with their depth', () => {
    const w = layoutWaterfall([span('c2', 'b', 30, 40), span('b', 'a', 10, 90), span('a', null, 0, 100), span('c1', 'b', 20, 25), span('d', 'a', 50, 60)]);
    expect(w.rows.map((r) => `${'  '.repeat(r.depth)}${r.span.span_id}`)).toEqual(['a', '  b', '    c1', '    c2', '  d']);
    expect(w.rows.map((r) => r.parentRow)).toEqual([undefined, 0, 1, 1, 0]);
  });

  it('places each bar on the time axis of the whole trace, in percent, with its offset and duration in ms', () => {
    const w = layoutWaterfall([span('a', null, 0, 200), span('b', 'a', 50, 150), span('c', 'b', 100, 100.0005)]);
    expect(w.totalMs).toBe(200);
    const [a, b, c] = w.rows;
    expect(a).toMatchObject({ offsetMs: 0, durationMs: 200, leftPct: 0, widthPct: 100 });
    expect(b).toMatchObject({ offsetMs: 50, durationMs: 100, leftPct: 25, widthPct: 50 });
    // A 0.5 µs span still gets a visible bar.
    expect(c!.offsetMs).toBe(100);
    expect(c!.durationMs).toBeCloseTo(0.0005, 6);
    expect(c!.widthPct).toBe(MIN_BAR_PCT);
    expect(w.ticks).toEqual([0, 25, 50, 75, 100].map((pct) => ({ pct, ms: pct * 2 })));
  });

  it('keeps nanosecond precision on timestamps past 2^53', () => {
    const w = layoutWaterfall([span('a', null, 0, 0.000003), span('b', 'a', 0.000001, 0.000002)]);
    expect(w.rows[1]!.offsetMs).toBeCloseTo(0.000001, 9);
    expect(w.totalMs).toBeCloseTo(0.000003, 9);
  });

  it('marks errors, and as the first error the error span that ended first, the deeper one on a tie', () => {
    // The job fails because its evaluation did: the evaluation ended first.
    const w = layoutWaterfall([span('root', null, 0, 100, 'ERROR'), span('evaluate', 'root', 10, 60, 'ERROR'), span('fetch', 'root', 5, 9, 'OK'), span('late', 'root', 70, 80, 'ERROR')]);
    expect(w.rows.filter((r) => r.error).map((r) => r.span.span_id)).toEqual(['root', 'evaluate', 'late']);
    expect(w.firstErrorSpanId).toBe('evaluate');
    expect(w.rows.filter((r) => r.firstError).map((r) => r.span.span_id)).toEqual(['evaluate']);
    expect(w.errorCount).toBe(3);
    const tie = layoutWaterfall([span('parent', null, 0, 50, 'ERROR'), span('child', 'parent', 10, 50, 'ERROR')]);
    expect(tie.firstErrorSpanId).toBe('child');
    expect(layoutWaterfall([span('a', null, 0, 10, 'OK')]).firstErrorSpanId).toBeUndefined();
  });

  it('shows spans whose parent is missing as roots, and spans caught in a parent loop once', () => {
    const orphans = layoutWaterfall([span('a', null, 0, 100), span('x', 'not-received', 20, 30), span('b', 'a', 10, 20)]);
    expect(orphans.rows.map((r) => [r.span.span_id, r.depth])).toEqual([['a', 0], ['b', 1], ['x', 0]]);
    const loop = layoutWaterfall([span('p', 'q', 0, 10), span('q', 'p', 5, 8), span('self', 'self', 1, 2)]);
    expect(loop.rows.map((r) => r.span.span_id).sort()).toEqual(['p', 'q', 'self']);
    const duplicate = layoutWaterfall([span('a', null, 0, 10), span('a', null, 0, 10)]);
    expect(duplicate.rows).toHaveLength(1);
  });

  it('lays out a trace of one instant and an empty trace', () => {
    const instant = layoutWaterfall([span('a', null, 5, 5)]);
    expect(instant.rows[0]).toMatchObject({ leftPct: 0, widthPct: 100, durationMs: 0 });
    expect(instant.totalMs).toBe(0);
    expect(layoutWaterfall([])).toEqual({ rows: [], totalMs: 0, firstErrorSpanId: undefined, errorCount: 0, ticks: [] });
  });

  it('keeps every bar inside the axis', () => {
    const spans = [span('root', null, 0, 1000), ...Array.from({ length: 50 }, (_, i) => span(`s${i}`, 'root', i * 20, i * 20 + (i % 7) * 30))];
    for (const row of layoutWaterfall(spans).rows) {
      expect(row.leftPct).toBeGreaterThanOrEqual(0);
      expect(row.widthPct).toBeGreaterThanOrEqual(MIN_BAR_PCT);
      expect(row.leftPct + row.widthPct).toBeLessThanOrEqual(100 + 1e-9);
    }
  });
});
