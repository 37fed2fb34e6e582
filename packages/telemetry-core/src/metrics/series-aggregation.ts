/**
 * Aggregation for the guarded counters and histograms (instruments.ts), read by the metric
 * readers through a `MetricProducer`.
 *
 * The SDK's synchronous instruments hash every recording's attribute set (sort the keys,
 * JSON-serialise them) to find its series; with the cardinality guard in front that is the
 * second look-up of the same label set, and on a request path it was the largest single cost
 * of the metrics. Here a label set is looked up once, by the key the guard computes anyway, and
 * a series is a few numbers updated in place. The readers still do everything else: the
 * `/metrics` exposition (cumulative) and the OTLP push (cumulative or delta, as its exporter
 * asks) get the same `MetricData` the SDK would produce.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';

/** One label set of one instrument. */
export class Series {
  readonly counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  readonly startMs: number;

  constructor(
    readonly key: string,
    readonly attributes: Attributes,
    buckets: number,
    now: number,
  ) {
    this.counts = new Array<number>(buckets).fill(0);
    this.startMs = now;
  }
}

export interface InstrumentDescriptor {
  name: string;
  description: string;
  unit: string;
  type: InstrumentType.HISTOGRAM | InstrumentType.COUNTER;
  /** Histogram bucket upper bounds (inclusive). */
  boundaries?: readonly number[];
}

/** The series of one guarded instrument. */
export class SeriesSet {
  readonly byKey = new Map<string, Series>();
  private readonly buckets: number;

  constructor(readonly descriptor: InstrumentDescriptor) {
    this.buckets = descriptor.type === InstrumentType.HISTOGRAM ? (descriptor.boundaries?.length ?? 0) + 1 : 0;
  }

  /** The series for an admitted label set, created on first use with a copy of `attributes`. */
  series(key: string, attributes: Attributes): Series {
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = new Series(key, Object.freeze({ ...attributes }), this.buckets, Date.now());
      this.byKey.set(key, s);
    }
    return s;
  }
}

/** Every guarded instrument of one telemetry instance. */
export class GuardedInstruments {
  readonly sets: SeriesSet[] = [];

  add(descriptor: InstrumentDescriptor): SeriesSet {
    const set = new SeriesSet(descriptor);
    this.sets.push(set);
    return set;
  }

  /** A producer for one reader, in the temporality that reader's exporter wants. */
  producer(resource: Resource, scopeName: string, temporality: (type: InstrumentType) => AggregationTemporality): MetricProducer {
    return new GuardedMetricsProducer(this, resource, scopeName, temporality);
  }
}

interface Snapshot {
  counts: number[];
  sum: number;
  count: number;
}

class GuardedMetricsProducer implements MetricProducer {
  /** Delta readers: what the previous collection reported per series, and when. */
  private readonly last = new WeakMap<Series, Snapshot>();
  private lastCollectMs: number | undefined;

  constructor(
    private readonly instruments: GuardedInstruments,
    private readonly resource: Resource,
    private readonly scopeName: string,
    private readonly temporality: (type: InstrumentType) => AggregationTemporality,
  ) {}

  async collect(): Promise<CollectionResult> {
    const nowMs = Date.now();
    const end = millisToHrTime(nowMs);
    const previous = this.lastCollectMs;
    this.lastCollectMs = nowMs;
    const metrics: MetricData[] = [];
    for (const set of this.instruments.sets) {
      const d = set.descriptor;
      const temporality = this.temporality(d.type);
      const delta = temporality === AggregationTemporality.DELTA;
      const descriptor = { name: d.name, description: d.description, unit: d.unit, valueType: ValueType.DOUBLE, type: d.type };
      if (d.type === InstrumentType.HISTOGRAM) {
        const boundaries = [...(d.boundaries ?? [])];
        const dataPoints = [];
        for (const s of set.byKey.values()) {
          const before = delta ? this.last.get(s) : undefined;
          const count = s.count - (before?.count ?? 0);
          if (delta) {
            if (count === 0) continue;
            this.last.set(s, { counts: s.counts.slice(), sum: s.sum, count: s.count });
          }
          dataPoints.push({
            startTime: start(s, delta, previous),
            endTime: end,
            attributes: s.attributes,
            value: {
              buckets: { boundaries, counts: before ? s.counts.map((c, i) => c - (before.counts[i] ?? 0)) : s.counts.slice() },
              sum: s.sum - (before?.sum ?? 0),
              count,
              // min and max cover the whole life of a cumulative series; a delta interval has none of its own here.
              ...(delta || s.count === 0 ? {} : { min: s.min, max: s.max }),
            },
          });
        }
        if (dataPoints.length > 0) metrics.push({ descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM, dataPoints });
      } else {
        const dataPoints = [];
        for (const s of set.byKey.values()) {
          const before = delta ? this.last.get(s) : undefined;
          const value = s.sum - (before?.sum ?? 0);
          if (delta) {
            if (s.count === (before?.count ?? 0)) continue;
            this.last.set(s, { counts: [], sum: s.sum, count: s.count });
          }
          dataPoints.push({ startTime: start(s, delta, previous), endTime: end, attributes: s.attributes, value });
        }
        if (dataPoints.length > 0) metrics.push({ descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.SUM, dataPoints, isMonotonic: true });
      }
    }
    return { resourceMetrics: { resource: this.resource, scopeMetrics: [{ scope: { name: this.scopeName }, metrics }] }, errors: [] };
  }
}

function start(s: Series, delta: boolean, previousCollectMs: number | undefined): HrTime {
  return millisToHrTime(delta && previousCollectMs !== undefined && previousCollectMs > s.startMs ? previousCollectMs : s.startMs);
}
