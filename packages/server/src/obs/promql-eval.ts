/**
 * The few PromQL semantics the embedded metrics query needs, written to give Prometheus'
 * answers on the same samples (Prometheus 3 semantics, promql/functions.go and quantile.go):
 *
 * - `rate(x[r])` at t: samples in `(t − r, t]` (ranges open on the left); at least two; the
 *   increase is last − first plus the value before every drop (counter resets), extrapolated to
 *   the range's ends when the first or last sample is within 1.1 average intervals of them
 *   (else by half an interval), never back past the counter's zero point; divided by r.
 * - a gauge at t: the last sample in `(t − 5m, t]` (the instant-vector lookback).
 * - `histogram_quantile(q, ...)`: classic buckets by `le`, coalesced and made monotonic, linear
 *   interpolation inside the bucket, the highest finite bound when the rank falls in `+Inf`.
 *
 * Delta series (OTLP delta temporality, which Prometheus cannot hold) have no Prometheus
 * counterpart: their increase over a range is the sum of the deltas in it.
 */
import type { SampleBand } from '../segments/metric-reader.js';

/** Prometheus' default lookback of instant vectors. */
export const LOOKBACK_MS = 300_000;

/** The samples of consecutive bands summarised as one (first, last, count, sum, resets). */
export type Summary = Omit<SampleBand, 'series_id' | 'band'>;

/** Combines band summaries given in time order; a drop between two bands is a reset too. */
export function combine(bands: readonly Summary[]): Summary | undefined {
  let out: Summary | undefined;
  for (const b of bands) {
    if (b.n === 0) continue;
    if (!out) {
      out = { ...b };
      continue;
    }
    out = {
      n: out.n + b.n,
      t0: out.t0,
      v0: out.v0,
      t1: b.t1,
      v1: b.v1,
      sum: out.sum + b.sum,
      resets: out.resets + b.resets + (b.v0 < out.v1 ? out.v1 : 0),
    };
  }
  return out;
}

/**
 * `rate()` (per second) or `increase()` of a counter over `(rangeStartMs, rangeEndMs]`, from
 * the summary of its samples in that range; undefined with fewer than two samples.
 */
export function extrapolatedRate(s: Summary | undefined, rangeStartMs: number, rangeEndMs: number, perSecond: boolean): number | undefined {
  if (!s || s.n < 2) return undefined;
  let result = s.v1 - s.v0 + s.resets;
  let toStart = (s.t0 - rangeStartMs) / 1000;
  let toEnd = (rangeEndMs - s.t1) / 1000;
  const sampled = (s.t1 - s.t0) / 1000;
  const average = sampled / (s.n - 1);
  const threshold = average * 1.1;
  if (toStart >= threshold) toStart = average / 2;
  if (result > 0 && s.v0 >= 0) {
    // Counters start at zero: never extrapolate back past the point where this one was zero.
    const toZero = sampled * (s.v0 / result);
    if (toZero < toStart) toStart = toZero;
  }
  if (toEnd >= threshold) toEnd = average / 2;
  result *= (sampled + toStart + toEnd) / sampled;
  return perSecond ? result / ((rangeEndMs - rangeStartMs) / 1000) : result;
}

/** The same for a delta series: the sum of the deltas in the range. */
export function deltaRate(s: Summary | undefined, rangeStartMs: number, rangeEndMs: number, perSecond: boolean): number | undefined {
  if (!s || s.n < 1) return undefined;
  return perSecond ? s.sum / ((rangeEndMs - rangeStartMs) / 1000) : s.sum;
}

/** One classic bucket: its upper bound (`le`) and cumulative count. */
export interface Bucket {
  upperBound: number;
  count: number;
}

/** `histogram_quantile(q, buckets)`; NaN when it has no answer (no +Inf bucket, no observations). */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  // Coalesce buckets with the same bound (e.g. "5" and "5.0").
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  // Monotonic: a lower cumulative count than a previous bucket's is raised to it.
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let i = 0;
  while (i < buckets.length - 1 && buckets[i]!.count < rank) i++;
  if (i === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (i === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let start = 0;
  const end = buckets[i]!.upperBound;
  let count = buckets[i]!.count;
  if (i > 0) {
    start = buckets[i - 1]!.upperBound;
    count -= buckets[i - 1]!.count;
    rank -= buckets[i - 1]!.count;
  }
  return start + (end - start) * (rank / count);
}

/** Parses an `le` label as Prometheus does (`+Inf`, `5`, `5.0`, `1e-3`); undefined when it is not a number. */
export function parseBound(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  const t = le.trim();
  if (/^\+?inf$/i.test(t)) return Infinity;
  if (/^-inf$/i.test(t)) return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}
