/**
 * The metrics query seam (OBS-2): one interface, two implementations — the embedded store's
 * metric index (embedded-metrics.ts) and Prometheus' HTTP API (prometheus-metrics.ts, when
 * `STELLA_PROMETHEUS_URL` is set). `GET /obs/metrics` and the SLO evaluator ask it the same
 * questions whichever answers, and a test holds both to the same answers on the same data.
 *
 * Every question is asked for one tenant: the embedded store reads only that tenant's rows
 * (row-level security); Prometheus queries carry a matcher on the tenant label
 * (`STELLA_PROMETHEUS_TENANT_LABEL`, default `stella_tenant_id`) on every selector.
 */
import type { LabelMatcher, Slo } from '@stellaops/collector-config';
import { ServiceError } from '../errors.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** What each point of an answer is. */
export type PointMeaning = 'rate_per_second' | 'value' | 'quantile' | 'observations_per_second';

export interface MetricsRangeQuery {
  /** A Prometheus metric name: a family (`http_server_request_duration_seconds`) or a sample name (`..._count`, `..._total`). */
  name: string;
  /** Label matchers every series must satisfy (no `__name__`). */
  matchers: readonly LabelMatcher[];
  fromMs: number;
  toMs: number;
  /** Points at from, from + step, … up to to; a counter's rate is taken over one step. */
  stepMs: number;
  /** For histograms: the quantile (0..1) of each point instead of the observation rate. */
  quantile?: number | undefined;
  /** More series than this is `obs.too_many_series`. */
  maxSeries: number;
}

export interface MetricSeriesAnswer {
  /** The series' labels without `__name__` (and without `le` for quantiles). */
  labels: Record<string, string>;
  /** `[unix seconds, value]`, ascending; steps without a finite value are left out. */
  points: [number, number][];
}

export interface MetricsRangeAnswer {
  /** The metric's type, or null when no series of this name exists in the window. */
  type: MetricType | null;
  meaning: PointMeaning;
  /** Series sorted by their labels. */
  series: MetricSeriesAnswer[];
}

/** The error ratio of an SLO per window: a ratio, or null when there is no data (no total series, or no events). */
export type ErrorRatios = Map<string, number | null>;

export interface MetricsQuery {
  readonly source: 'embedded' | 'prometheus';
  /** Series of one metric over a window (`GET /obs/metrics`). Throws `ServiceError` (`obs.*`). */
  range(tenant: string, query: MetricsRangeQuery): Promise<MetricsRangeAnswer>;
  /**
   * The SLO's error ratio over each window (`5m`, `1h`, `30d`), as its recording rules compute
   * it (`sliErrorRatioExpr`), at `atMs`.
   */
  sloErrorRatios(tenant: string, slo: Slo, windows: readonly string[], atMs: number): Promise<ErrorRatios>;
  /** Tenants the backend holds metrics of (besides those the store knows). */
  tenants(): Promise<string[]>;
}

/** Labels as one comparable string (sorting and grouping). */
export function labelsKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/** Sorted copy of labels, without the names given. */
export function cleanLabels(labels: Readonly<Record<string, string>>, drop: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) if (!drop.includes(k) && labels[k] !== '') out[k] = labels[k]!;
  return out;
}

/** Evaluation instants of a range query: from, from + step, … ≤ to. */
export function stepTimes(fromMs: number, toMs: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += stepMs) out.push(t);
  return out;
}

/** The type a sample name implies when nothing else says (Prometheus naming conventions). */
export function typeFromName(name: string): MetricType {
  return /_(total|count|sum|bucket)$/.test(name) ? 'counter' : 'gauge';
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds of a rule window (`5m`, `1h`, `30d`, `4w`). */
export function windowSeconds(window: string): number {
  const m = /^([1-9][0-9]*)([smhdw])$/.exec(window);
  if (!m) throw new Error(`not a window: ${window}`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}

export function quantileOnNonHistogram(name: string, type: MetricType): ServiceError {
  return new ServiceError('obs.quantile_invalid', `quantile applies to histograms; ${name} is a ${type}`, { field: 'query.quantile' });
}

export function checkSeriesCount(count: number, max: number): void {
  if (count > max) {
    throw new ServiceError('obs.too_many_series', `${count} series match, more than ${max}; narrow match (for example {job="api"}) or raise STELLA_OBS_METRICS_MAX_SERIES`, {
      field: 'query.match',
      extra: { allowed: { max_series: max } },
    });
  }
}

export function sortSeries(series: MetricSeriesAnswer[]): MetricSeriesAnswer[] {
  return series
    .map((s) => ({ s, key: labelsKey(s.labels) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ s }) => s);
}
