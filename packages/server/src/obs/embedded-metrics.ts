/**
 * The metrics query over the embedded store's metric index (OBS-2, on embedded defaults):
 * series come from `telemetry_metric_series`, samples are summarised per band by the store
 * (segments/metric-reader.ts), and rates, gauges and quantiles are computed here with
 * Prometheus' semantics (promql-eval.ts), so the answers match what Prometheus gives for the
 * same samples.
 */
import { matchesSelector, type LabelMatcher, type SeriesSelector, type Slo } from '@stellaops/collector-config';
import { ServiceError } from '../errors.js';
import type { MetricReader, MetricSeriesRow, SampleBand } from '../segments/metric-reader.js';
import { bucketQuantile, combine, deltaRate, extrapolatedRate, LOOKBACK_MS, parseBound, type Bucket } from './promql-eval.js';
import { checkSeriesCount, cleanLabels, labelsKey, quantileOnNonHistogram, sortSeries, stepTimes, windowSeconds, type ErrorRatios, type MetricsQuery, type MetricsRangeAnswer, type MetricsRangeQuery, type MetricSeriesAnswer, type MetricType } from './metrics-query.js';

/** Series rows read for one question at most, before label filters other than equality. */
const MAX_SERIES_ROWS = 20_000;

/** Equality matchers with a value, as labels a series must have (pushed down to the store). */
function equalityLabels(matchers: readonly LabelMatcher[]): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const m of matchers) {
    if (m.op !== '=' || m.value === '' || m.name === '__name__') continue;
    if (seen.has(m.name)) {
      // Two equalities on one label: leave the check to the matcher (it may select nothing).
      delete out[m.name];
      continue;
    }
    seen.add(m.name);
    out[m.name] = m.value;
  }
  return out;
}

function bandsBySeries(bands: readonly SampleBand[]): Map<string, SampleBand[]> {
  const out = new Map<string, SampleBand[]>();
  for (const b of bands) {
    let list = out.get(b.series_id);
    if (!list) out.set(b.series_id, (list = []));
    list.push(b);
  }
  return out;
}

function bandIndex(bands: readonly SampleBand[]): Map<string, Map<number, SampleBand>> {
  const out = new Map<string, Map<number, SampleBand>>();
  for (const b of bands) {
    let byBand = out.get(b.series_id);
    if (!byBand) out.set(b.series_id, (byBand = new Map()));
    byBand.set(b.band, b);
  }
  return out;
}

export class EmbeddedMetricsQuery implements MetricsQuery {
  readonly source = 'embedded' as const;

  constructor(private readonly reader: MetricReader) {}

  async tenants(): Promise<string[]> {
    // The store's own tenant list is all there is.
    return [];
  }

  async range(tenant: string, q: MetricsRangeQuery): Promise<MetricsRangeAnswer> {
    const { type, rows } = await this.resolve(tenant, q.name, q.matchers, q.quantile !== undefined);
    if (type === null) return { type, meaning: q.quantile !== undefined ? 'quantile' : 'value', series: [] };
    if (q.quantile !== undefined && type !== 'histogram') throw quantileOnNonHistogram(q.name, type);
    const selected = rows.filter((r) => matchesSelector({ matchers: q.matchers }, { ...r.labels, __name__: r.name }));
    const times = stepTimes(q.fromMs, q.toMs, q.stepMs);

    if (type === 'gauge') {
      checkSeriesCount(selected.length, q.maxSeries);
      const first = Math.max(q.stepMs, LOOKBACK_MS);
      const boundaries = [q.fromMs - first, ...times];
      const bands = bandsBySeries(await this.reader.bands(tenant, selected.map((r) => r.series_id), boundaries));
      const series = selected.map((r) => {
        const list = bands.get(r.series_id) ?? [];
        const points: [number, number][] = [];
        let j = 0;
        let last: SampleBand | undefined;
        times.forEach((t, k) => {
          // Band k + 1 ends at t; the last sample at or before t is in the latest band up to it.
          while (j < list.length && list[j]!.band <= k + 1) last = list[j++];
          if (last && last.t1 > t - LOOKBACK_MS && Number.isFinite(last.v1)) points.push([t / 1000, last.v1]);
        });
        return { labels: cleanLabels(r.labels), points };
      });
      return { type, meaning: 'value', series: sortSeries(series) };
    }

    // Counters, a histogram's observation rate, and its buckets for a quantile: rates per step.
    const boundaries = [q.fromMs - q.stepMs, ...times];
    if (q.quantile === undefined) checkSeriesCount(selected.length, q.maxSeries);
    else checkSeriesCount(new Set(selected.map((r) => labelsKey(cleanLabels(r.labels, ['le'])))).size, q.maxSeries);
    const bands = bandIndex(await this.reader.bands(tenant, selected.map((r) => r.series_id), boundaries));
    const rateAt = (r: MetricSeriesRow, k: number): number | undefined => {
      const band = bands.get(r.series_id)?.get(k + 1);
      const t = times[k]!;
      return r.delta ? deltaRate(band, t - q.stepMs, t, true) : extrapolatedRate(band, t - q.stepMs, t, true);
    };

    if (q.quantile === undefined) {
      const series = selected.map((r) => {
        const points: [number, number][] = [];
        times.forEach((t, k) => {
          const v = rateAt(r, k);
          if (v !== undefined && Number.isFinite(v)) points.push([t / 1000, v]);
        });
        return { labels: cleanLabels(r.labels), points };
      });
      return { type, meaning: type === 'histogram' ? 'observations_per_second' : 'rate_per_second', series: sortSeries(series) };
    }

    const quantile = q.quantile;
    const groups = new Map<string, { labels: Record<string, string>; buckets: { bound: number; row: MetricSeriesRow }[] }>();
    for (const r of selected) {
      const bound = parseBound(r.labels['le']);
      if (bound === undefined) continue;
      const labels = cleanLabels(r.labels, ['le']);
      const key = labelsKey(labels);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { labels, buckets: [] }));
      g.buckets.push({ bound, row: r });
    }
    const series: MetricSeriesAnswer[] = [];
    for (const g of groups.values()) {
      const points: [number, number][] = [];
      times.forEach((t, k) => {
        const buckets: Bucket[] = [];
        for (const b of g.buckets) {
          const v = rateAt(b.row, k);
          if (v !== undefined) buckets.push({ upperBound: b.bound, count: v });
        }
        if (buckets.length === 0) return;
        const v = bucketQuantile(quantile, buckets);
        if (Number.isFinite(v)) points.push([t / 1000, v]);
      });
      series.push({ labels: g.labels, points });
    }
    return { type, meaning: 'quantile', series: sortSeries(series) };
  }

  async sloErrorRatios(tenant: string, slo: Slo, windows: readonly string[], atMs: number): Promise<ErrorRatios> {
    const starts = windows.map((w) => atMs - windowSeconds(w) * 1000);
    const boundaries = [...new Set([...starts, atMs])].sort((a, b) => a - b);
    const [total, part] = await Promise.all([
      this.sumRates(tenant, slo.indicator.total, boundaries, starts, atMs),
      this.sumRates(tenant, (slo.indicator.good ?? slo.indicator.bad)!, boundaries, starts, atMs),
    ]);
    const out: ErrorRatios = new Map();
    windows.forEach((w, i) => {
      const t = total[i];
      if (t === undefined) return out.set(w, null);
      const p = part[i] ?? 0;
      const ratio = slo.indicator.good ? 1 - p / t : p / t;
      out.set(w, Number.isFinite(ratio) ? ratio : null);
    });
    return out;
  }

  /** `sum(rate(<selector>[w]))` at `atMs` for each window start; undefined where no series has a rate. */
  private async sumRates(tenant: string, selector: SeriesSelector, boundaries: readonly number[], starts: readonly number[], atMs: number): Promise<(number | undefined)[]> {
    const name = selector.metricName ?? selector.matchers.find((m) => m.name === '__name__' && m.op === '=')?.value;
    if (name === undefined) return starts.map(() => undefined);
    const rows = (await this.reader.series(tenant, { name, equal: equalityLabels(selector.matchers), limit: MAX_SERIES_ROWS })).filter((r) =>
      matchesSelector(selector, { ...r.labels, __name__: r.name }),
    );
    const bands = bandsBySeries(await this.reader.bands(tenant, rows.map((r) => r.series_id), boundaries));
    return starts.map((start) => {
      const from = boundaries.indexOf(start);
      let sum: number | undefined;
      for (const r of rows) {
        const inWindow = (bands.get(r.series_id) ?? []).filter((b) => b.band > from);
        const summary = combine(inWindow);
        const rate = r.delta ? deltaRate(summary, start, atMs, true) : extrapolatedRate(summary, start, atMs, true);
        if (rate !== undefined) sum = (sum ?? 0) + rate;
      }
      return sum;
    });
  }

  /** The type and series rows a name stands for: a sample name, else a family. */
  private async resolve(tenant: string, name: string, matchers: readonly LabelMatcher[], quantile: boolean): Promise<{ type: MetricType | null; rows: MetricSeriesRow[] }> {
    const equal = equalityLabels(matchers);
    const read = async (sampleName: string): Promise<MetricSeriesRow[]> => {
      const rows = await this.reader.series(tenant, { name: sampleName, equal, limit: MAX_SERIES_ROWS });
      if (rows.length > MAX_SERIES_ROWS) {
        throw new ServiceError('obs.too_many_series', `more than ${MAX_SERIES_ROWS} series of ${sampleName} match the equality matchers; narrow match with label="value" matchers`, {
          field: 'query.match',
          extra: { allowed: { max_series: MAX_SERIES_ROWS } },
        });
      }
      return rows;
    };
    const byName = await read(name);
    if (byName.length > 0) return { type: byName[0]!.family_type === 'histogram' ? 'counter' : byName[0]!.family_type, rows: byName };
    const [family] = await this.reader.series(tenant, { name, family: true, limit: 0 });
    if (!family) return { type: null, rows: [] };
    if (family.family_type === 'histogram') return { type: 'histogram', rows: await read(`${name}_${quantile ? 'bucket' : 'count'}`) };
    return { type: family.family_type, rows: await read(family.family_type === 'counter' ? `${name}_total` : name) };
  }
}
