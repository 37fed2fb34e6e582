/**
 * Exemplars for histograms (CORE-6 jump-to-trace). The metrics SDK of this generation does
 * not attach exemplars to collected data points, so they are kept here: the last exemplar
 * per metric, label set and bucket, from traces that are exported (head-sampled or kept by
 * the tail buffer) — an exemplar pointing at a discarded trace would be a dead link. The
 * OpenMetrics exposition joins them to the SDK's buckets. Memory is bounded by the
 * cardinality guard (only admitted label sets get entries).
 */
export interface Exemplar {
  value: number;
  traceId: string;
  spanId: string;
  /** Epoch milliseconds. */
  timeMs: number;
}

export class ExemplarStore {
  private readonly byMetric = new Map<string, Map<string, Array<Exemplar | undefined>>>();

  offer(metric: string, key: string, bucketCount: number, bucket: number, exemplar: Exemplar): void {
    let byKey = this.byMetric.get(metric);
    if (byKey === undefined) {
      byKey = new Map();
      this.byMetric.set(metric, byKey);
    }
    let buckets = byKey.get(key);
    if (buckets === undefined) {
      buckets = new Array<Exemplar | undefined>(bucketCount);
      byKey.set(key, buckets);
    }
    buckets[bucket] = exemplar;
  }

  get(metric: string, key: string): ReadonlyArray<Exemplar | undefined> | undefined {
    return this.byMetric.get(metric)?.get(key);
  }
}

/** Index of the explicit-bucket histogram bucket holding `value` (upper bounds inclusive). */
export function bucketIndex(boundaries: readonly number[], value: number): number {
  let i = 0;
  while (i < boundaries.length && value > (boundaries[i] as number)) i++;
  return i;
}
