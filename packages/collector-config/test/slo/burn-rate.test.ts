import { describe, expect, it } from 'vitest';
import { burnRateWindows, ERROR_RATIO_WINDOWS, SloError } from '../../src/index.ts';

const pick = (window: string | number) => burnRateWindows(window).map((w) => [w.severity, w.longWindow, w.shortWindow, w.burnRate]);

describe('burn-rate windows', () => {
  it('are the SRE workbook table for 30 days', () => {
    expect(pick('30d')).toEqual([
      ['page', '1h', '5m', 14.4],
      ['page', '6h', '30m', 6],
      ['ticket', '1d', '2h', 3],
      ['ticket', '3d', '6h', 1],
    ]);
    expect(burnRateWindows('30d').map((w) => w.budgetConsumed)).toEqual([0.02, 0.05, 0.1, 0.1]);
  });

  it('scale the burn rate with the period, keeping the windows and the budget share', () => {
    expect(pick('28d')).toEqual([
      ['page', '1h', '5m', 13.44],
      ['page', '6h', '30m', 5.6],
      ['ticket', '1d', '2h', 2.8],
      ['ticket', '3d', '6h', 1],
    ]);
    expect(pick('4w')).toEqual(pick('28d'));
    expect(pick(90 * 86_400).map((w) => w[3])).toEqual([43.2, 18, 9, 3]);
  });

  it('never alert on a pace that would not spend the budget within the period', () => {
    expect(pick('7d')).toEqual([
      ['page', '1h', '5m', 3.36],
      ['page', '6h', '30m', 1.4],
      ['ticket', '1d', '2h', 1],
      ['ticket', '3d', '6h', 1],
    ]);
    const weekly = burnRateWindows('7d');
    expect(weekly[3]!.budgetConsumed).toBeCloseTo(3 / 7, 6);
  });

  it('refuse periods outside 7–90 days and non-durations', () => {
    for (const bad of ['6d', '91d', '1M', 'thirty days', 3600]) expect(() => burnRateWindows(bad)).toThrow(SloError);
  });

  it('name every window the alerts read, shortest first', () => {
    expect(ERROR_RATIO_WINDOWS).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
  });
});
