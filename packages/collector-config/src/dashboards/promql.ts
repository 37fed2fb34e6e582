/**
 * The metric names the dashboards read (as Prometheus names them, see
 * docs/metrics-and-slos.md) and the few PromQL shapes the panels share.
 */

/** Prometheus scrape jobs are named after the service (`service.name`). */
export const SERVICE_JOB = 'stella-observability';
export const INGEST_JOBS = ['sbom-service', 'conseiller', 'excitator'] as const;

/** Metric names, with the emitter that produces them. */
export const METRICS = {
  // telemetry-core (every service that calls initTelemetry)
  httpDuration: 'http_server_request_duration_seconds',
  journeyDuration: 'stella_journey_duration_seconds',
  queueDepth: 'stella_queue_depth',
  eventLoopP99: 'nodejs_eventloop_delay_p99_seconds',
  cpuTime: 'process_cpu_time_seconds_total',
  memoryRss: 'process_memory_usage_bytes',
  exportFailures: 'collector_export_failures_total',
  exportQueueDepth: 'telemetry_export_queue_depth',
  dropped: 'telemetry_dropped_total',
  tailDiscarded: 'telemetry_tail_sampling_discarded_total',
  tailBufferBytes: 'telemetry_tail_buffer_bytes',
  spillPendingBytes: 'telemetry_spill_pending_bytes',
  incidentMode: 'telemetry_incident_mode',
  // the Observability & Forensics service
  bundleGeneration: 'telemetry_bundle_generation_seconds',
  receiverAccepted: 'telemetry_receiver_accepted_total',
  receiverRefused: 'telemetry_receiver_refused_total',
  quarantined: 'stella_ingest_quarantined_total',
  // Prometheus
  up: 'up',
} as const;

/** Grafana's rate window: at least four scrapes, so a rate always has two samples. */
export const RATE = '$__rate_interval';
/** The dashboard's time range (stats over the whole range). */
export const RANGE = '$__range';

/** `{a="b",c=~"d"}` from matchers written as `a="b"`. */
export function selector(metric: string, ...matchers: string[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(',')}}`;
}

/** `label=~"a|b|c"` (values are plain words and route templates: no regex escaping needed). */
export function oneOf(label: string, values: readonly string[]): string {
  return values.length === 1 ? `${label}="${values[0]}"` : `${label}=~"${values.join('|')}"`;
}

/** `sum by (labels) (rate(sel[window]))`; no labels: `sum(rate(...))`. */
export function sumRate(sel: string, by: readonly string[] = [], window = RATE): string {
  return `sum${by.length ? ` by (${by.join(', ')}) ` : ''}(rate(${sel}[${window}]))`;
}

/** `sum by (labels) (increase(sel[window]))`. */
export function sumIncrease(sel: string, by: readonly string[] = [], window = RATE): string {
  return `sum${by.length ? ` by (${by.join(', ')}) ` : ''}(increase(${sel}[${window}]))`;
}

/** `histogram_quantile(q, sum by (le, labels) (rate(<histogram>_bucket{...}[window])))`. */
export function quantile(q: number, histogram: string, matchers: readonly string[], by: readonly string[] = []): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (rate(${selector(`${histogram}_bucket`, ...matchers)}[${RATE}])))`;
}

/**
 * Share of a histogram's observations at or under `le` over the dashboard range (an SLO's good
 * ratio). The bucket is matched in both spellings (`5` in the text format, `5.0` once
 * Prometheus 3 normalises it), as the SLO rules do.
 */
export function shareWithin(histogram: string, le: number, good: readonly string[], total: readonly string[]): string {
  const leMatcher = `le=~"${le}|${le}\\\\.0"`;
  return `${sumIncrease(selector(`${histogram}_bucket`, ...good, leMatcher), [], RANGE)} / ${sumIncrease(selector(`${histogram}_count`, ...total), [], RANGE)}`;
}

/**
 * `part / whole` where `part` may have no series yet (counters of refusals appear with their
 * first event): an absent part counts as 0, an absent whole leaves the ratio empty.
 */
export function ratio(part: string, whole: string): string {
  return `(${part} or vector(0)) / ${whole}`;
}
