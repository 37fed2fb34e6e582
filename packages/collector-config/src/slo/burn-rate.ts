/**
 * The multiwindow, multi-burn-rate alert policy of the Google SRE workbook ("Alerting on
 * SLOs", table 5-8), generalised from 30 days to any SLO period between 7 and 90 days.
 *
 * Each pair alerts when the error ratio over both its long and its short window (1/12 of the
 * long one) exceeds `burnRate × (1 − target)`. The long windows and the share of the budget
 * each pair guards are fixed; the burn rate follows from the period:
 *
 *   burnRate = max(1, budgetShare × period / longWindow)
 *
 * which for 30 days gives the workbook's 14.4, 6, 3 and 1. The floor of 1 keeps a ticket from
 * opening for a pace that would not spend the budget within the period (for 28 days the 3d
 * pair becomes 1, not 0.93).
 */
import { SloError } from './errors.js';
import { formatDuration, parseDuration } from './duration.js';

export type AlertSeverity = 'page' | 'ticket';

export interface BurnRateWindow {
  severity: AlertSeverity;
  /** The long window, also the alert's `long_window` label: `1h`, `6h`, `1d` or `3d`. */
  longWindow: string;
  /** The short window that makes the alert reset soon after recovery: 1/12 of the long one. */
  shortWindow: string;
  longWindowSeconds: number;
  shortWindowSeconds: number;
  /** Error rate as a multiple of the rate that spends exactly the budget over the period. */
  burnRate: number;
  /** Share of the period's error budget spent over the long window at exactly this burn rate. */
  budgetConsumed: number;
}

/** Long window, its severity and the budget share it guards, in alerting order (fastest first). */
const POLICY = [
  { severity: 'page', longWindowSeconds: 3600, budgetShare: 0.02 },
  { severity: 'page', longWindowSeconds: 6 * 3600, budgetShare: 0.05 },
  { severity: 'ticket', longWindowSeconds: 86_400, budgetShare: 0.1 },
  { severity: 'ticket', longWindowSeconds: 3 * 86_400, budgetShare: 0.1 },
] as const satisfies readonly { severity: AlertSeverity; longWindowSeconds: number; budgetShare: number }[];

export const MIN_PERIOD_SECONDS = 7 * 86_400;
export const MAX_PERIOD_SECONDS = 90 * 86_400;

/** Every window of every pair, shortest first: the recording rules the alerts read. */
export const ERROR_RATIO_WINDOWS: readonly string[] = [...new Set(POLICY.flatMap((p) => [p.longWindowSeconds / 12, p.longWindowSeconds]))]
  .sort((a, b) => a - b)
  .map(formatDuration);

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

/**
 * The four window pairs for an SLO period (`30d`, `4w`, or seconds), fastest first.
 * Periods outside 7–90 days are refused: below 7 days the 3d window is most of the period,
 * above 90 days a 1-hour page needs an error ratio no target can tolerate.
 */
export function burnRateWindows(window: string | number): BurnRateWindow[] {
  const period = typeof window === 'number' ? window : parseDuration(window);
  if (period === undefined || !Number.isInteger(period)) {
    throw new SloError('slo.invalid', `SLO period ${JSON.stringify(window)} is not a duration such as 30d or 4w`);
  }
  if (period < MIN_PERIOD_SECONDS || period > MAX_PERIOD_SECONDS) {
    throw new SloError('slo.unsupported', `SLO period ${formatDuration(period)} is outside 7d–90d, the range the burn-rate windows (1h to 3d) are made for`);
  }
  return POLICY.map((p) => {
    const burnRate = Math.max(1, round((p.budgetShare * period) / p.longWindowSeconds, 4));
    return {
      severity: p.severity,
      longWindow: formatDuration(p.longWindowSeconds),
      shortWindow: formatDuration(p.longWindowSeconds / 12),
      longWindowSeconds: p.longWindowSeconds,
      shortWindowSeconds: p.longWindowSeconds / 12,
      burnRate,
      budgetConsumed: round((burnRate * p.longWindowSeconds) / period, 6),
    };
  });
}

/** Error ratio above which a pair alerts: burnRate × (1 − target), rounded to 10 significant digits. */
export function burnThreshold(burnRate: number, errorBudget: number): number {
  return Number((burnRate * errorBudget).toPrecision(10));
}
