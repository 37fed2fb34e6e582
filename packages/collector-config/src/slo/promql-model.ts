/**
 * A small model of how Prometheus evaluates the generated SLO rules over promtool test input,
 * used to write each test's expected alerts. It follows `rate()`'s extrapolation and the
 * lookback of instant selectors in two variants — Prometheus 2.x (ranges closed on the left,
 * the zero-point clamp before the extrapolation threshold) and 3.x (ranges open on the left,
 * the threshold first) — and the tests are built only where both agree with a margin, so the
 * generated file holds for either promtool.
 */
import type { Slo } from './openslo.js';
import { absentLabels, matchesSelector, type SeriesSelector } from './selector.js';
import { parseDuration } from './duration.js';
import type { SloBurnRateAlert } from './rules.js';

/** One input series: labels (with `__name__`) and its promtool `values` notation. */
export interface ModelSeries {
  labels: Record<string, string>;
  /** Sample values, one per `STEP_SECONDS` from 0; the series ends after the last. */
  values: number[];
  /** The same samples in promtool notation. */
  notation: string;
}

export const STEP_SECONDS = 60;
const LOOKBACK_SECONDS = 300;

export interface Variant {
  /** Range selectors include a sample exactly at the range start (Prometheus 2.x). */
  leftClosed: boolean;
  /** Zero-point clamp applied before the extrapolation threshold (Prometheus 2.x). */
  clampFirst: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { leftClosed: true, clampFirst: true },
  { leftClosed: false, clampFirst: false },
  { leftClosed: true, clampFirst: false },
  { leftClosed: false, clampFirst: true },
];

function format(n: number): string {
  return String(n);
}

/**
 * Builds a counter series from per-step increments (sample 0 is 0), written as promtool
 * `a+bxn` runs. Values are accumulated the way promtool expands a run (adding the step), so
 * the model and promtool see the same floats.
 */
export function counterSeries(labels: Record<string, string>, increments: readonly number[]): ModelSeries {
  const values = [0];
  const terms: string[] = [];
  let i = 0;
  while (i < increments.length) {
    const inc = increments[i]!;
    let n = 1;
    while (i + n < increments.length && increments[i + n] === inc) n++;
    if (terms.length === 0) {
      terms.push(`0+${format(inc)}x${n}`);
      let c = 0;
      for (let j = 0; j < n; j++) values.push((c += inc));
    } else {
      let c = values[values.length - 1]! + inc;
      values.push(c);
      terms.push(n === 1 ? format(c) : `${format(c)}+${format(inc)}x${n - 1}`);
      for (let j = 1; j < n; j++) values.push((c += inc));
    }
    i += n;
  }
  if (terms.length === 0) terms.push('0');
  return { labels, values, notation: terms.join(' ') };
}

/** Increase of one series over `(t − range, t]` (or `[t − range, t]`), as `rate() × range`. */
function seriesIncrease(series: ModelSeries, t: number, range: number, v: Variant): number | undefined {
  const start = t - range;
  const points: { t: number; v: number }[] = [];
  series.values.forEach((value, i) => {
    const ts = i * STEP_SECONDS;
    if ((v.leftClosed ? ts >= start : ts > start) && ts <= t) points.push({ t: ts, v: value });
  });
  if (points.length < 2) return undefined;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  let result = last.v - first.v;
  for (let i = 1; i < points.length; i++) if (points[i]!.v < points[i - 1]!.v) result += points[i - 1]!.v;
  let toStart = first.t - start;
  let toEnd = t - last.t;
  const sampled = last.t - first.t;
  const avg = sampled / (points.length - 1);
  const threshold = avg * 1.1;
  const zero = result > 0 && first.v >= 0 ? sampled * (first.v / result) : toStart;
  if (v.clampFirst) {
    if (zero < toStart) toStart = zero;
    toStart = toStart < threshold ? toStart : avg / 2;
  } else {
    if (toStart >= threshold) toStart = avg / 2;
    if (zero < toStart) toStart = zero;
  }
  toEnd = toEnd < threshold ? toEnd : avg / 2;
  return result * ((sampled + toStart + toEnd) / sampled);
}

/** `sum(rate(<selector>[range]))` as an increase; undefined when no series has two samples. */
function sumIncrease(all: readonly ModelSeries[], selector: SeriesSelector, t: number, range: number, v: Variant): number | undefined {
  let sum: number | undefined;
  for (const s of all) {
    if (!matchesSelector(selector, s.labels)) continue;
    const inc = seriesIncrease(s, t, range, v);
    if (inc !== undefined) sum = (sum ?? 0) + inc;
  }
  return sum;
}

/** The SLO's error ratio over a window at `t`, as the recording rule computes it; undefined = no sample. */
export function errorRatio(all: readonly ModelSeries[], slo: Slo, t: number, window: string, v: Variant): number | undefined {
  const range = parseDuration(window)!;
  const total = sumIncrease(all, slo.indicator.total, t, range, v);
  if (total === undefined) return undefined;
  if (slo.indicator.good) return 1 - (sumIncrease(all, slo.indicator.good, t, range, v) ?? 0) / total;
  return (sumIncrease(all, slo.indicator.bad, t, range, v) ?? 0) / total;
}

/** Whether `absent(<total>)` returns a sample at `t`. */
export function totalAbsent(all: readonly ModelSeries[], slo: Slo, t: number, v: Variant): boolean {
  return !all.some(
    (s) =>
      matchesSelector(slo.indicator.total, s.labels) &&
      s.values.some((_, i) => {
        const ts = i * STEP_SECONDS;
        return (v.leftClosed ? ts >= t - LOOKBACK_SECONDS : ts > t - LOOKBACK_SECONDS) && ts <= t;
      }),
  );
}

/** A comparison `ratio > threshold` and how far from flipping it was (relative). */
export interface Decision {
  fires: boolean;
  margin: number;
}

function compare(ratio: number | undefined, threshold: number): Decision {
  if (ratio === undefined || Number.isNaN(ratio)) return { fires: false, margin: Infinity };
  return { fires: ratio > threshold, margin: Math.abs(ratio - threshold) / threshold };
}

/** Whether a pair's alert fires at `t`: both windows above the threshold (no `for`). */
export function burnDecision(all: readonly ModelSeries[], slo: Slo, pair: SloBurnRateAlert, t: number, v: Variant): Decision {
  const long = compare(errorRatio(all, slo, t, pair.longWindow, v), pair.threshold);
  const short = compare(errorRatio(all, slo, t, pair.shortWindow, v), pair.threshold);
  // The result flips only through a comparison that decides it.
  if (long.fires && short.fires) return { fires: true, margin: Math.min(long.margin, short.margin) };
  const deciding = [long, short].filter((d) => !d.fires).map((d) => d.margin);
  return { fires: false, margin: Math.max(...deciding) };
}

/** Whether `SLONoData` fires at `t`: absent at every evaluation over the last `forSeconds`. */
export function noDataFires(all: readonly ModelSeries[], slo: Slo, t: number, forSeconds: number, v: Variant): boolean {
  if (t < forSeconds) return false;
  for (let g = t - forSeconds; g <= t; g += STEP_SECONDS) if (!totalAbsent(all, slo, g, v)) return false;
  return true;
}

/** Labels of the no-data alert's series. */
export function noDataSeriesLabels(slo: Slo): Record<string, string> {
  return absentLabels(slo.indicator.total);
}
