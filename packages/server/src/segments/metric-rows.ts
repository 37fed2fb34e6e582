/**
 * OBS-2: what the index keeps of a stored OTLP metrics record — the series and samples
 * Prometheus would hold for the same data, so the embedded store and Prometheus answer the same
 * queries (`/obs/metrics`, the SLO selectors) with the same names and labels.
 *
 * Naming follows the OpenTelemetry-to-Prometheus rules telemetry-core's `/metrics` exposition
 * uses (metrics/openmetrics.ts there): dots and other characters become `_`, the unit is
 * appended (`s` → `_seconds`, `ms` → `_milliseconds`, `By` → `_bytes`, `1` → `_ratio`), a
 * monotonic sum is a counter named `<family>_total`, a histogram is `<family>_bucket{le}`
 * (cumulative), `_count` and `_sum`. Labels are the data point's attributes (names made valid,
 * values as text) plus `job` (`service.namespace/service.name`, or `service.name`) and
 * `instance` (`service.instance.id`) from the resource, as a scrape or the Collector gives them.
 *
 * - A non-monotonic sum is a gauge; gauges keep their value.
 * - An exponential histogram becomes classic buckets at a fixed resolution (scale 2: four
 *   buckets per power of two, `le` = 2^((j+1)/4)), so its bucket series stay the same when the
 *   SDK rescales; negative buckets and the zero bucket come first in `le` order.
 * - Delta sums and histograms are kept as deltas (`delta`); the query adds them up instead of
 *   taking differences.
 * - Summaries are not indexed (the segments keep them). Points marked as having no recorded
 *   value, points outside 1970..9999 and values that are not finite are left out of the index.
 */
import { createHash } from 'node:crypto';
import {
  int64ToNumber,
  int64ToString,
  nanosToMillis,
  TEMPORALITY_DELTA,
  type AnyValue,
  type DataPointLike,
  type ExponentialHistogramDataPoint,
  type HistogramDataPoint,
  type KeyValue,
  type MetricsRequest,
  type NumberDataPoint,
} from './signal-records.js';

export type MetricFamilyType = 'counter' | 'gauge' | 'histogram';

/** One sample of one series, with the series it belongs to. */
export interface MetricRow {
  /** Hash of the sample name and labels (32 hex characters). */
  series_id: string;
  /** The sample name: `<family>_total`, `_bucket`, `_count`, `_sum`, or a gauge's family name. */
  name: string;
  family: string;
  family_type: MetricFamilyType;
  delta: boolean;
  /** Prometheus unit word (`seconds`, `bytes`) or "". */
  unit: string;
  /** JSON text of the labels, keys sorted (no `__name__`). */
  labels: string;
  ts_ms: number;
  value: number;
}

const UNITS: Readonly<Record<string, string>> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': 'ratio' };
/** Resolution exponential histograms are indexed at: 2^-EXPONENTIAL_SCALE per bucket on a log2 scale. */
export const EXPONENTIAL_SCALE = 2;
const MAX_TS_MS = 253_402_300_799_999;
const MAX_NAME_CHARS = 256;
const MAX_VALUE_CHARS = 1024;
const NO_RECORDED_VALUE = 1;

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export function sanitizeMetricName(name: string): string {
  const s = cut(name, MAX_NAME_CHARS).replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s || '_';
}

export function sanitizeLabelName(name: string): string {
  const s = cut(name, MAX_NAME_CHARS).replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s || '_';
}

/** How a bound or a value is written in a label (`le`): the text format's spelling. */
export function formatLabelNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function valueText(value: AnyValue | null | undefined, depth = 0): string {
  if (!value || depth > 8) return '';
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return String(value.boolValue);
  if (value.intValue !== null && value.intValue !== undefined) return int64ToString(value.intValue);
  if (typeof value.doubleValue === 'number') return formatLabelNumber(value.doubleValue);
  if (value.arrayValue) return value.arrayValue.values.map((v) => valueText(v, depth + 1)).join(',');
  if (value.kvlistValue) return JSON.stringify(Object.fromEntries(value.kvlistValue.values.map((kv) => [kv.key, valueText(kv.value, depth + 1)])));
  if (value.bytesValue) return Buffer.from(value.bytesValue).toString('base64');
  return '';
}

function stringAttr(list: KeyValue[] | null | undefined, key: string): string | undefined {
  for (const kv of list ?? []) if (kv.key === key && typeof kv.value?.stringValue === 'string' && kv.value.stringValue !== '') return kv.value.stringValue;
  return undefined;
}

/** Labels of a data point: attributes by valid name (names that collide are joined with ";", in key order). */
function pointLabels(attributes: KeyValue[], resourceLabels: Readonly<Record<string, string>>): Record<string, string> {
  const labels: Record<string, string> = {};
  const sorted = [...attributes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const kv of sorted) {
    const name = sanitizeLabelName(kv.key);
    const value = cut(valueText(kv.value), MAX_VALUE_CHARS);
    labels[name] = labels[name] === undefined ? value : `${labels[name]};${value}`;
  }
  for (const [k, v] of Object.entries(resourceLabels)) if (labels[k] === undefined) labels[k] = v;
  return labels;
}

function labelsJson(labels: Readonly<Record<string, string>>): string {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) if (labels[k] !== '') out[k] = labels[k]!;
  return JSON.stringify(out);
}

function seriesId(name: string, labels: string): string {
  return createHash('sha256').update(name).update('\0').update(labels).digest('hex').slice(0, 32);
}

/** The family name of a metric: sanitized, `_total` dropped from counters, the unit appended once. */
export function metricFamilyName(name: string, unit: string | null | undefined, monotonicSum: boolean): { family: string; unit: string } {
  const unitWord = UNITS[unit ?? ''] ?? '';
  let family = sanitizeMetricName(name);
  if (monotonicSum) family = family.replace(/_total$/, '');
  if (unitWord && !family.endsWith(`_${unitWord}`)) family = `${family}_${unitWord}`;
  return { family, unit: unitWord };
}

function pointTime(point: DataPointLike, receivedAtMs: number): number | undefined {
  const ns = int64ToNumber(point.timeUnixNano);
  const ms = ns > 0 ? nanosToMillis(point.timeUnixNano) : receivedAtMs;
  return ms > 0 && ms <= MAX_TS_MS ? ms : undefined;
}

class RowWriter {
  readonly rows: MetricRow[] = [];

  constructor(
    private readonly family: string,
    private readonly familyType: MetricFamilyType,
    private readonly delta: boolean,
    private readonly unit: string,
  ) {}

  add(name: string, labels: Readonly<Record<string, string>>, ts: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const json = labelsJson(labels);
    this.rows.push({ series_id: seriesId(name, json), name, family: this.family, family_type: this.familyType, delta: this.delta, unit: this.unit, labels: json, ts_ms: ts, value });
  }
}

function numberValue(p: NumberDataPoint): number | undefined {
  if (typeof p.asDouble === 'number') return p.asDouble;
  if (p.asInt !== null && p.asInt !== undefined) return int64ToNumber(p.asInt);
  return undefined;
}

function histogramPoint(w: RowWriter, family: string, labels: Record<string, string>, ts: number, p: HistogramDataPoint): void {
  const counts = p.bucketCounts ?? [];
  const bounds = p.explicitBounds ?? [];
  let cumulative = 0;
  if (counts.length > 0) {
    for (let i = 0; i < counts.length; i++) {
      cumulative += int64ToNumber(counts[i]);
      const le = i < bounds.length ? formatLabelNumber(bounds[i]!) : '+Inf';
      w.add(`${family}_bucket`, { ...labels, le }, ts, cumulative);
    }
  }
  const count = p.count === null || p.count === undefined ? cumulative : int64ToNumber(p.count);
  w.add(`${family}_count`, labels, ts, count);
  if (typeof p.sum === 'number') w.add(`${family}_sum`, labels, ts, p.sum);
}

/**
 * An exponential histogram point as cumulative classic buckets at `EXPONENTIAL_SCALE` (or the
 * point's own scale when it is coarser): bucket j covers (base^j, base^(j+1)], base = 2^(2^-scale).
 */
function exponentialPoint(w: RowWriter, family: string, labels: Record<string, string>, ts: number, p: ExponentialHistogramDataPoint): void {
  const scale = p.scale ?? 0;
  const target = Math.min(scale, EXPONENTIAL_SCALE);
  const shift = 2 ** (scale - target);
  const bound = (j: number): number => 2 ** (j * 2 ** -target);
  const regroup = (b: ExponentialHistogramDataPoint['positive']): Map<number, number> => {
    const out = new Map<number, number>();
    const offset = b?.offset ?? 0;
    (b?.bucketCounts ?? []).forEach((c, i) => {
      const n = int64ToNumber(c);
      if (n === 0) return;
      const j = Math.floor((offset + i) / shift);
      out.set(j, (out.get(j) ?? 0) + n);
    });
    return out;
  };
  const negative = regroup(p.negative);
  const positive = regroup(p.positive);
  let cumulative = 0;
  // Negative values first, most negative bucket first: bucket j holds [-base^(j+1), -base^j).
  for (const j of [...negative.keys()].sort((a, b) => b - a)) {
    cumulative += negative.get(j)!;
    w.add(`${family}_bucket`, { ...labels, le: formatLabelNumber(-bound(j)) }, ts, cumulative);
  }
  cumulative += int64ToNumber(p.zeroCount);
  w.add(`${family}_bucket`, { ...labels, le: formatLabelNumber(p.zeroThreshold ?? 0) }, ts, cumulative);
  for (const j of [...positive.keys()].sort((a, b) => a - b)) {
    cumulative += positive.get(j)!;
    w.add(`${family}_bucket`, { ...labels, le: formatLabelNumber(bound(j + 1)) }, ts, cumulative);
  }
  const count = p.count === null || p.count === undefined ? cumulative : int64ToNumber(p.count);
  w.add(`${family}_bucket`, { ...labels, le: '+Inf' }, ts, count);
  w.add(`${family}_count`, labels, ts, count);
  if (typeof p.sum === 'number') w.add(`${family}_sum`, labels, ts, p.sum);
}

/** The metric index rows of one stored export request. */
export function metricRows(request: MetricsRequest, receivedAtMs: number): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const rm of request.resourceMetrics) {
    const attrs = rm.resource?.attributes;
    const service = stringAttr(attrs, 'service.name');
    const namespace = stringAttr(attrs, 'service.namespace');
    const instance = stringAttr(attrs, 'service.instance.id');
    const resourceLabels: Record<string, string> = {};
    if (service) resourceLabels['job'] = cut(namespace ? `${namespace}/${service}` : service, MAX_VALUE_CHARS);
    if (instance) resourceLabels['instance'] = cut(instance, MAX_VALUE_CHARS);
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const sum = m.sum;
        const monotonic = !!sum && sum.isMonotonic === true;
        const { family, unit } = metricFamilyName(m.name ?? '', m.unit, monotonic);
        const points: { data: DataPointLike[]; type: MetricFamilyType; delta: boolean; kind: 'number' | 'histogram' | 'exponential' } | undefined = m.gauge
          ? { data: m.gauge.dataPoints, type: 'gauge', delta: false, kind: 'number' }
          : sum
            ? { data: sum.dataPoints, type: monotonic ? 'counter' : 'gauge', delta: monotonic && sum.aggregationTemporality === TEMPORALITY_DELTA, kind: 'number' }
            : m.histogram
              ? { data: m.histogram.dataPoints, type: 'histogram', delta: m.histogram.aggregationTemporality === TEMPORALITY_DELTA, kind: 'histogram' }
              : m.exponentialHistogram
                ? { data: m.exponentialHistogram.dataPoints, type: 'histogram', delta: m.exponentialHistogram.aggregationTemporality === TEMPORALITY_DELTA, kind: 'exponential' }
                : undefined;
        if (!points) continue;
        const w = new RowWriter(family, points.type, points.delta, unit);
        for (const point of points.data) {
          if (((point.flags ?? 0) & NO_RECORDED_VALUE) !== 0) continue;
          const ts = pointTime(point, receivedAtMs);
          if (ts === undefined) continue;
          const labels = pointLabels(point.attributes ?? [], resourceLabels);
          if (points.kind === 'number') {
            const value = numberValue(point as NumberDataPoint);
            if (value !== undefined) w.add(points.type === 'counter' ? `${family}_total` : family, labels, ts, value);
          } else if (points.kind === 'histogram') {
            histogramPoint(w, family, labels, ts, point as HistogramDataPoint);
          } else {
            exponentialPoint(w, family, labels, ts, point as ExponentialHistogramDataPoint);
          }
        }
        for (const r of w.rows) rows.push(r);
      }
    }
  }
  return rows;
}
