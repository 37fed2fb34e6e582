/**
 * Reads of the metric index (OBS-2) for the embedded metrics query (obs/embedded-metrics.ts):
 * the series of a name or family, and their samples summarised per time band — first and last
 * sample, count, sum and the counter resets inside the band — which is everything `rate()`,
 * `increase()`, a gauge's last value and the sum of deltas need, without moving every sample
 * out of the store. Every read first flushes the index (what was acknowledged is what is read)
 * and runs as the tenant (row-level security). Part of the telemetry store: the only SQL on
 * `telemetry_metric_*` besides the index that writes them.
 */
import type { SqlStore } from '../store/sql-store.js';
import type { MetricFamilyType } from './metric-rows.js';
import type { TelemetryStore } from './telemetry-store.js';

export interface MetricSeriesRow {
  series_id: string;
  /** Sample name (`x_total`, `x_bucket`, a gauge's name). */
  name: string;
  family: string;
  family_type: MetricFamilyType;
  delta: boolean;
  unit: string;
  labels: Record<string, string>;
}

/** The samples of one series inside one band `(boundaries[band-1], boundaries[band]]`. */
export interface SampleBand {
  series_id: string;
  /** 1-based: band i covers `(boundaries[i-1], boundaries[i]]`. */
  band: number;
  /** Samples in the band (one per timestamp). */
  n: number;
  /** First and last sample: time (ms) and value. */
  t0: number;
  v0: number;
  t1: number;
  v1: number;
  /** Sum of the values (for delta series). */
  sum: number;
  /** Sum of the values before each drop between consecutive samples of the band (counter resets). */
  resets: number;
}

export interface SeriesLookup {
  /** Sample name, or the family with `family: true`. */
  name: string;
  family?: boolean;
  /** Labels every series must have with exactly these values (narrows the read; matchers are checked by the caller). */
  equal?: Readonly<Record<string, string>>;
  /** Most rows read; one more tells the caller there were more. */
  limit: number;
}

// Samples are de-duplicated by timestamp (a replayed record stores a sample twice). Bands are
// closed on the right: a sample at a band's end belongs to it, one at its start to the band before.
const BANDS_SQL = `
WITH p AS (
  SELECT DISTINCT ON (series_id, ts_ms) series_id, ts_ms, value
    FROM telemetry_metric_points
   WHERE tenant_id = $1 AND series_id = ANY($2::text[]) AND ts_ms > $3 AND ts_ms <= $4
   ORDER BY series_id, ts_ms, value DESC
), b AS (
  SELECT series_id, ts_ms, value, width_bucket(ts_ms - 1, $5::bigint[]) AS band FROM p
), l AS (
  SELECT series_id, ts_ms, value, band,
         lag(value) OVER w AS prev,
         first_value(value) OVER w AS v0,
         last_value(value) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS v1
    FROM b
  WINDOW w AS (PARTITION BY series_id, band ORDER BY ts_ms)
)
SELECT series_id, band, count(*)::int AS n, min(ts_ms) AS t0, max(ts_ms) AS t1, min(v0) AS v0, min(v1) AS v1,
       sum(value) AS sum, COALESCE(sum(prev) FILTER (WHERE value < prev), 0) AS resets
  FROM l
 GROUP BY series_id, band
 ORDER BY series_id, band`;

export class MetricReader {
  constructor(
    private readonly store: SqlStore,
    private readonly telemetry: TelemetryStore,
  ) {}

  /** Series of a sample name or a family, at most `limit + 1`. */
  async series(tenant: string, lookup: SeriesLookup): Promise<MetricSeriesRow[]> {
    await this.telemetry.index.flush();
    const params: unknown[] = [tenant, lookup.name, lookup.limit + 1];
    let where = `tenant_id = $1 AND ${lookup.family ? 'family' : 'name'} = $2`;
    if (lookup.equal && Object.keys(lookup.equal).length > 0) {
      params.push(JSON.stringify(lookup.equal));
      where += ` AND labels @> $${params.length}::jsonb`;
    }
    const { rows } = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ series_id: string; name: string; family: string; family_type: MetricFamilyType; delta: boolean; unit: string; labels: unknown }>(
        `SELECT series_id, name, family, family_type, delta, unit, labels FROM telemetry_metric_series WHERE ${where} ORDER BY series_id LIMIT $3`,
        params,
      ),
    );
    return rows.map((r) => ({
      series_id: r.series_id,
      name: r.name,
      family: r.family,
      family_type: r.family_type,
      delta: r.delta,
      unit: r.unit,
      labels: (typeof r.labels === 'string' ? JSON.parse(r.labels) : r.labels) as Record<string, string>,
    }));
  }

  /**
   * Samples of the series summarised per band; `boundaries` ascending (ms), band i covering
   * `(boundaries[i-1], boundaries[i]]`. Bands without samples are absent.
   */
  async bands(tenant: string, seriesIds: readonly string[], boundaries: readonly number[]): Promise<SampleBand[]> {
    if (seriesIds.length === 0 || boundaries.length < 2) return [];
    await this.telemetry.index.flush();
    const { rows } = await this.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ series_id: string; band: number; n: number; t0: string | number; t1: string | number; v0: number; v1: number; sum: number; resets: number }>(BANDS_SQL, [
        tenant,
        [...seriesIds],
        boundaries[0],
        boundaries[boundaries.length - 1],
        [...boundaries],
      ]),
    );
    return rows.map((r) => ({
      series_id: r.series_id,
      band: Number(r.band),
      n: Number(r.n),
      t0: Number(r.t0),
      t1: Number(r.t1),
      v0: Number(r.v0),
      v1: Number(r.v1),
      sum: Number(r.sum),
      resets: Number(r.resets),
    }));
  }
}
