/**
 * Golden signals, runtime saturation, journeys and the pipeline's self-metrics (CORE-6,
 * CORE-10, INC-4), all on one OpenTelemetry meter. Histograms and counters with tenant
 * labels go through the cardinality guard; histograms keep exemplars.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { context as otelContext, trace, type Attributes, type Meter } from '@opentelemetry/api';
import { InstrumentType } from '@opentelemetry/sdk-metrics';
import { addRequestObserver, type RequestCompletion } from '../context/http.js';
import type { TelemetryStats } from '../export/telemetry-stats.js';
import type { IncidentModeRegistry } from '../sampling/incident-mode.js';
import { attributesKey, CardinalityGuard, OVERFLOW_ATTRIBUTES, OVERFLOW_KEY, type CardinalityLimits } from './cardinality-guard.js';
import { bucketIndex, ExemplarStore } from './exemplar-store.js';
import { GuardedInstruments, type Series, type SeriesSet } from './series-aggregation.js';

/** Seconds. Covers the SLO thresholds 2 s (interactive), 5 s, 30 s and 90 s (jobs). */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60, 90, 120, 300,
]);

/** The StellaOps user journeys with their own latency histogram series. */
export const JOURNEYS = Object.freeze([
  'sbom_ingest',
  'policy_evaluate',
  'advisory_link',
  'vex_reconcile',
  'export_bundle',
  'notification_send',
] as const);
export type JourneyName = (typeof JOURNEYS)[number];

export const METRIC_NAMES = Object.freeze({
  requestDuration: 'http.server.request.duration',
  requestErrors: 'http.server.request.errors',
  journeyDuration: 'stella.journey.duration',
  queueDepth: 'stella.queue.depth',
  eventLoopDelayP50: 'nodejs.eventloop.delay.p50',
  eventLoopDelayP99: 'nodejs.eventloop.delay.p99',
  eventLoopDelayMax: 'nodejs.eventloop.delay.max',
  cpuTime: 'process.cpu.time',
  memoryRss: 'process.memory.usage',
  exportFailures: 'collector_export_failures',
  exportQueueDepth: 'telemetry_export_queue_depth',
  dropped: 'telemetry_dropped',
  tailKept: 'telemetry_tail_sampling_kept',
  tailDiscarded: 'telemetry_tail_sampling_discarded',
  tailBufferBytes: 'telemetry_tail_buffer_bytes',
  metricOverflow: 'telemetry_metric_overflow',
  spillPendingBytes: 'telemetry_spill_pending_bytes',
  incidentMode: 'telemetry_incident_mode',
});

/** Where an exemplar comes from: explicit ids, or the active span when omitted. */
export interface ExemplarRef {
  traceId: string;
  spanId: string;
}

/** Raw label sets remembered per instrument (beyond it, new ones go through the guard each time). */
const RAW_KEY_MEMORY = 4096;

/**
 * The series a recording goes to: a label set seen before is one map look-up by its key; a new
 * one goes through the cardinality guard (which scrubs its values and applies the caps) first.
 * Folded recordings are not remembered, so the guard counts each of them.
 */
function seriesFor(set: SeriesSet, shared: MetricsShared, name: string, rawKey: string, attrs: () => Attributes): Series {
  const memory = shared.rawKeys(set);
  const known = memory.get(rawKey);
  if (known !== undefined) return known;
  const labels = { ...attrs() };
  if (!shared.guard.admit(name, attributesKey(labels), labels)) return set.series(OVERFLOW_KEY, OVERFLOW_ATTRIBUTES);
  const series = set.series(attributesKey(labels), labels);
  if (memory.size < RAW_KEY_MEMORY) memory.set(rawKey, series);
  return series;
}

/**
 * A cheap look-up key of a label set as given: keys in the caller's order, no sorting (a call
 * site always orders them the same way; another order is one more entry for the same series).
 */
export function rawLabelKey(attrs: Attributes): string {
  let out = '';
  for (const k in attrs) {
    const v = attrs[k];
    if (v === undefined) continue;
    out += `${k}=${typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : String(v)}\u0001`;
  }
  return out;
}

/** A histogram that respects the cardinality guard and keeps exemplars. */
export class GuardedHistogram {
  constructor(
    readonly name: string,
    readonly boundaries: readonly number[],
    private readonly set: SeriesSet,
    private readonly shared: MetricsShared,
  ) {}

  record(value: number, attrs: Attributes = {}, exemplar?: ExemplarRef | null): void {
    this.recordKeyed(value, rawLabelKey(attrs), () => attrs, exemplar);
  }

  /**
   * `record` for hot paths that know their label set by a key of their own: `rawKey` must
   * stand for exactly one label set, which `attrs` builds only the first time it is seen.
   */
  recordKeyed(value: number, rawKey: string, attrs: () => Attributes, exemplar?: ExemplarRef | null): void {
    if (!Number.isFinite(value) || value < 0) return;
    const series = seriesFor(this.set, this.shared, this.name, rawKey, attrs);
    const bucket = bucketIndex(this.boundaries, value);
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += value;
    series.count += 1;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
    const ref = exemplar === undefined ? this.shared.activeExemplar() : exemplar;
    if (ref) {
      this.shared.exemplars.offer(this.name, series.key, this.boundaries.length + 1, bucket, {
        value,
        traceId: ref.traceId,
        spanId: ref.spanId,
        timeMs: Date.now(),
      });
    }
  }
}

/** A counter that respects the cardinality guard. */
export class GuardedCounter {
  constructor(
    readonly name: string,
    private readonly set: SeriesSet,
    private readonly shared: MetricsShared,
  ) {}

  add(value: number, attrs: Attributes = {}): void {
    this.addKeyed(value, rawLabelKey(attrs), () => attrs);
  }

  /** `add` by a caller's own key for its label set (see `GuardedHistogram.recordKeyed`). */
  addKeyed(value: number, rawKey: string, attrs: () => Attributes): void {
    if (!Number.isFinite(value) || value < 0) return;
    const series = seriesFor(this.set, this.shared, this.name, rawKey, attrs);
    series.sum += value;
    series.count += 1;
  }
}

export interface MetricsShared {
  guard: CardinalityGuard;
  /** Raw label-set key → series, per instrument; emptied when the label scrub policy changes. */
  rawKeys(set: SeriesSet): Map<string, Series>;
  exemplars: ExemplarStore;
  /** Exemplar for the active span, if its trace will be exported. */
  activeExemplar(): ExemplarRef | undefined;
}

export interface TelemetryMetricsOptions {
  service: string;
  meter: Meter;
  stats: TelemetryStats;
  incidents: IncidentModeRegistry;
  limits?: CardinalityLimits;
  /** Whether a trace id will be exported (head-sampled, or kept by the tail buffer). */
  traceKept: (traceId: string, sampledFlag: boolean) => boolean;
  /** Window after which event-loop delay percentiles restart. Default 10 000 ms. */
  eventLoopWindowMs?: number;
  /** Record request metrics from the HTTP middlewares. Default true. */
  requestMetrics?: boolean;
  /** Where histogram exemplars are kept (shared with the exposition reader). Default: a new store. */
  exemplars?: ExemplarStore;
  /** Where the guarded instruments keep their series (the readers' producers read it). Default: a new set. */
  instruments?: GuardedInstruments;
}

export class TelemetryMetrics {
  readonly shared: MetricsShared;
  readonly requestDuration: GuardedHistogram;
  readonly requestErrors: GuardedCounter;
  readonly journeyDuration: GuardedHistogram;
  private readonly queueReaders = new Map<string, () => number>();
  private readonly loopDelay: ReturnType<typeof monitorEventLoopDelay>;
  private readonly loopTimer: NodeJS.Timeout;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly guard: CardinalityGuard;
  /** The guarded instruments' series, read by the metric readers through `instruments.producer`. */
  readonly instruments: GuardedInstruments;
  private readonly rawKeys = new Map<SeriesSet, Map<string, Series>>();

  constructor(private readonly options: TelemetryMetricsOptions) {
    const { meter, stats, incidents } = options;
    this.guard = new CardinalityGuard(options.limits);
    const exemplars = options.exemplars ?? new ExemplarStore();
    this.instruments = options.instruments ?? new GuardedInstruments();
    const rawKeys = this.rawKeys;
    this.shared = {
      guard: this.guard,
      rawKeys: (set) => {
        let keys = rawKeys.get(set);
        if (keys === undefined) {
          keys = new Map();
          rawKeys.set(set, keys);
        }
        return keys;
      },
      exemplars,
      activeExemplar: () => {
        const sc = trace.getSpanContext(otelContext.active());
        if (!sc || !options.traceKept(sc.traceId, (sc.traceFlags & 1) === 1)) return undefined;
        return { traceId: sc.traceId, spanId: sc.spanId };
      },
    };

    this.requestDuration = this.histogram(METRIC_NAMES.requestDuration, 'Duration of HTTP server requests.');
    this.requestErrors = this.counter(METRIC_NAMES.requestErrors, 'HTTP server requests that ended with a 5xx status.');
    this.journeyDuration = this.histogram(METRIC_NAMES.journeyDuration, 'Duration of a StellaOps user journey (SBOM ingest, policy evaluate, ...).');

    if (options.requestMetrics !== false) this.unsubscribe = addRequestObserver((c) => this.recordRequest(c));

    meter
      .createObservableGauge(METRIC_NAMES.queueDepth, { description: 'Depth of a work queue registered with observeQueueDepth.' })
      .addCallback((result) => {
        for (const [queue, read] of this.queueReaders) {
          try {
            const v = read();
            if (Number.isFinite(v)) result.observe(v, { queue });
          } catch {
            // A broken reader reports nothing rather than failing the scrape.
          }
        }
      });

    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    this.loopTimer = setInterval(() => this.loopDelay.reset(), options.eventLoopWindowMs ?? 10_000);
    this.loopTimer.unref();
    const nsToS = 1e-9;
    meter.createObservableGauge(METRIC_NAMES.eventLoopDelayP50, { unit: 's', description: 'Event-loop delay, median over the current window.' })
      .addCallback((r) => r.observe(this.loopDelay.count > 0 ? this.loopDelay.percentile(50) * nsToS : 0));
    meter.createObservableGauge(METRIC_NAMES.eventLoopDelayP99, { unit: 's', description: 'Event-loop delay, 99th percentile over the current window.' })
      .addCallback((r) => r.observe(this.loopDelay.count > 0 ? this.loopDelay.percentile(99) * nsToS : 0));
    meter.createObservableGauge(METRIC_NAMES.eventLoopDelayMax, { unit: 's', description: 'Event-loop delay, maximum over the current window.' })
      .addCallback((r) => r.observe(this.loopDelay.count > 0 ? this.loopDelay.max * nsToS : 0));
    meter.createObservableCounter(METRIC_NAMES.cpuTime, { unit: 's', description: 'CPU time consumed by this process.' })
      .addCallback((r) => {
        const u = process.cpuUsage();
        r.observe(u.user / 1e6, { 'cpu.mode': 'user' });
        r.observe(u.system / 1e6, { 'cpu.mode': 'system' });
      });
    meter.createObservableGauge(METRIC_NAMES.memoryRss, { unit: 'By', description: 'Resident set size of this process.' })
      .addCallback((r) => r.observe(process.memoryUsage.rss()));

    // Self-metrics of the export pipeline (CORE-10).
    meter.createObservableCounter(METRIC_NAMES.exportFailures, { description: 'Failed exports to the collector, per signal.' })
      .addCallback((r) => {
        for (const [signal, n] of Object.entries(stats.exportFailures)) r.observe(n, { signal });
      });
    meter.createObservableGauge(METRIC_NAMES.exportQueueDepth, { description: 'Records waiting in the export queue, per signal.' })
      .addCallback((r) => {
        for (const [signal, n] of Object.entries(stats.queueDepth)) r.observe(n, { signal });
      });
    meter.createObservableCounter(METRIC_NAMES.dropped, { description: 'Telemetry records not delivered, per signal and reason.' })
      .addCallback((r) => {
        for (const [key, n] of stats.dropped) {
          const [signal, reason] = key.split('|');
          r.observe(n, { signal, reason });
        }
      });
    meter.createObservableCounter(METRIC_NAMES.tailKept, { description: 'Head-dropped traces kept by the tail buffer, per reason.' })
      .addCallback((r) => {
        for (const [reason, n] of stats.tailKept) r.observe(n, { reason });
      });
    meter.createObservableCounter(METRIC_NAMES.tailDiscarded, { description: 'Head-dropped traces the tail buffer discarded (no error, not slow).' })
      .addCallback((r) => r.observe(stats.tailDiscarded));
    meter.createObservableGauge(METRIC_NAMES.tailBufferBytes, { unit: 'By', description: 'Estimated bytes held by the tail-sampling buffer.' })
      .addCallback((r) => r.observe(stats.tailBufferedBytes));
    meter.createObservableGauge(METRIC_NAMES.spillPendingBytes, { unit: 'By', description: 'Bytes of error logs spilled to disk awaiting re-send.' })
      .addCallback((r) => r.observe(stats.spillPendingBytes));
    meter.createObservableCounter(METRIC_NAMES.metricOverflow, { description: 'Recordings folded into the overflow series by the cardinality guard.' })
      .addCallback((r) => {
        for (const [key, n] of this.guard.overflowCounts()) {
          const [metric, reason] = key.split('|');
          r.observe(n, { metric, reason });
        }
      });
    meter.createObservableGauge(METRIC_NAMES.incidentMode, { description: 'Incident-mode scopes in force in this process (1 per scope).' })
      .addCallback((r) => {
        for (const e of incidents.active()) r.observe(1, { tenant: e.tenant ?? '*', service: e.service ?? '*', state: 'on' });
      });
  }

  /** A guarded histogram with exemplars, for service-specific latencies (seconds by default). */
  histogram(name: string, description: string, boundaries: readonly number[] = DURATION_BUCKETS_SECONDS, unit = 's'): GuardedHistogram {
    const set = this.instruments.add({ name, description, unit, type: InstrumentType.HISTOGRAM, boundaries });
    return new GuardedHistogram(name, boundaries, set, this.shared);
  }

  counter(name: string, description: string): GuardedCounter {
    return new GuardedCounter(name, this.instruments.add({ name, description, unit: '', type: InstrumentType.COUNTER }), this.shared);
  }

  /**
   * The label set an observable instrument of `metric` should report `attrs` under: `attrs`
   * itself, or the overflow label set once the metric or the tenant is past its cap (counted in
   * `telemetry_metric_overflow_total`). Guarded counters and histograms do this themselves.
   */
  admit(metric: string, attrs: Attributes): Attributes {
    return this.guard.admit(metric, attributesKey(attrs), attrs) ? attrs : OVERFLOW_ATTRIBUTES;
  }

  /**
   * Scrub policy for label values from now on (a telemetry policy reload): label sets are
   * judged again on their next recording; series already recorded keep their labels.
   */
  setLabelPolicy(policy: Parameters<CardinalityGuard['setScrubPolicy']>[0]): void {
    this.guard.setScrubPolicy(policy);
    this.rawKeys.clear();
  }

  observeQueueDepth(queue: string, read: () => number): () => void {
    this.queueReaders.set(queue, read);
    return () => this.queueReaders.delete(queue);
  }

  shutdown(): void {
    this.unsubscribe?.();
    clearInterval(this.loopTimer);
    this.loopDelay.disable();
  }

  /** Records one completed request (latency, and errors for 5xx). The HTTP middlewares call it through their observer. */
  recordRequest(c: RequestCompletion): void {
    const key = `${c.method}\u0001${c.route}\u0001${c.statusCode}\u0001${c.tenantId ?? '\u0000'}`;
    const attrs = (): Attributes => {
      const labels: Attributes = { 'http.request.method': c.method, 'http.route': c.route, 'http.response.status_code': c.statusCode };
      if (c.tenantId !== undefined) labels['stella.tenant_id'] = c.tenantId;
      return labels;
    };
    const exemplar = this.options.traceKept(c.traceId, c.sampled) ? { traceId: c.traceId, spanId: c.spanId } : null;
    this.requestDuration.recordKeyed(c.durationMs / 1000, key, attrs, exemplar);
    if (c.statusCode >= 500) this.requestErrors.addKeyed(1, key, attrs);
  }
}
