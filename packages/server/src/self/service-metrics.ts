/**
 * The service's own instruments (CORE-6, CORE-10, INC-4, FOR-4, STO-5), on the meter of its own
 * telemetry instance — never the global one, so two services in one process count apart. Each
 * module that counts is handed the instrument it records into (a `CounterPoint`, a
 * `HistogramPoint`); label sets that carry tenant ids go through telemetry-core's cardinality
 * guard, so a flood of tenants folds into one overflow series instead of growing the scrape.
 * Counters whose labels are known up front start at 0, so `increase()` sees their first event.
 * docs/metrics-and-slos.md lists every metric with its labels.
 */
import type { Attributes } from '@opentelemetry/api';
import { EVIDENCE_KINDS } from '@stellaops/forensics';
import type { TelemetryHandle } from '@stellaops/telemetry-core';
import { IngestRates, type RateKind } from './ingest-rates.js';

/** A counter as the code that counts sees it. */
export interface CounterPoint {
  add(value: number, attributes?: Attributes): void;
}

/** A histogram as the code that measures sees it (exemplars come from the active span). */
export interface HistogramPoint {
  record(value: number, attributes?: Attributes): void;
}

/** Incident mode per tenant, as the incident controller reports it (INC-4). */
export interface IncidentModeGauge {
  set(tenant: string, active: boolean): void;
}

/**
 * DORA-2's gauges over a trailing window, per tenant and environment: set by the DORA feature's
 * gauge job, read at each collection (label sets through the cardinality guard).
 */
export interface DoraGauges {
  /** Replaces the tenant's values: one entry per environment with deployments in the window. */
  setTenant(tenant: string, values: readonly { environment: string; frequencyPerDay: number; changeFailureRatePercent: number | null }[]): void;
}

/** DORA-2 and DORA-4 instruments. */
export interface DoraInstruments {
  /** `dora_deployments_total{tenant,environment,outcome}`: deployments recorded (each once). */
  deployments: CounterPoint;
  /** `dora_deployment_failure_total{tenant,environment,outcome}`: of them, rollbacks, hotfixes and failures. */
  failures: CounterPoint;
  /** `dora_lead_time_hours{tenant,environment}`: commit to deploy, per deployment. */
  leadTime: HistogramPoint;
  /** `dora_time_to_recovery_hours{tenant,environment}`: start to resolution, per incident (when it is resolved). */
  recovery: HistogramPoint;
  /** `dora_slo_breach_total{tenant,metric}`: deployments over the lead-time target (`lead_time`), resolved incidents over the recovery target (`time_to_recovery`). */
  sloBreaches: CounterPoint;
  gauges: DoraGauges;
}

/** Hours: lead time buckets around the DORA-3 thresholds (24 h, 1 week, 6 months). */
export const DORA_LEAD_TIME_BUCKETS: readonly number[] = Object.freeze([1, 4, 12, 24, 48, 168, 720, 2160, 4380]);
/** Hours: recovery buckets around the DORA-3 thresholds (1 h, 1 day, 1 week). */
export const DORA_RECOVERY_BUCKETS: readonly number[] = Object.freeze([0.25, 0.5, 1, 4, 12, 24, 72, 168, 720]);

/** Seconds; FOR-4's alert reads the 95th percentile against 120 s. */
export const BUNDLE_GENERATION_BUCKETS: readonly number[] = Object.freeze([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);

const SIGNALS = ['traces', 'metrics', 'logs'] as const;
const DEFECT_KINDS = ['unhandled_rejection', 'uncaught_exception'] as const;
const INCIDENT_METRIC = 'telemetry_incident_mode';

export class ServiceMetrics {
  /** `telemetry_receiver_accepted_total{tenant,signal}`: spans, log records and data points stored. */
  readonly receiverAccepted: CounterPoint;
  /** `telemetry_receiver_refused_total{tenant,signal,error_code}`: OTLP requests refused (no tenant label before the caller is known). */
  readonly receiverRefused: CounterPoint;
  /** `stella_ingest_quarantined_total{signal,tenant,reason}`. */
  readonly quarantined: CounterPoint;
  /** `telemetry_bundle_generation_seconds{outcome}`. */
  readonly bundleDuration: HistogramPoint;
  /** `telemetry_bundle_generation_failures_total`. */
  readonly bundleFailures: CounterPoint;
  /** `stella_evidence_commits_total{kind,outcome}`. */
  readonly evidenceCommits: CounterPoint;
  /** `stella_timeline_ingest_lag_seconds`: from an event's time to the indexer storing it. */
  readonly timelineLag: HistogramPoint;
  /** `stella_process_defects_total{kind}`. */
  readonly processDefects: CounterPoint;
  /** `telemetry_incident_mode{tenant,state}`: 1 on the series of the tenant's current state, 0 on the other. */
  readonly incidentModes: IncidentModeGauge;
  /** DORA-2, DORA-4: `dora_*`. */
  readonly dora: DoraInstruments;
  /** What the receiver counts, as rates over the last minute and five minutes (`GET /telemetry/status`). */
  readonly ingestRates = new IngestRates();

  private readonly incidentTenants = new Map<string, boolean>();
  private readonly doraValues = new Map<string, readonly { environment: string; frequencyPerDay: number; changeFailureRatePercent: number | null }[]>();

  constructor(
    private readonly handle: TelemetryHandle,
    options: { selfTenant: string },
  ) {
    const m = handle.metrics;
    this.receiverAccepted = this.rated('accepted', m.counter('telemetry_receiver_accepted', 'Spans, log records and data points the OTLP receiver stored, by tenant and signal.'));
    this.receiverRefused = this.rated('refused', m.counter('telemetry_receiver_refused', 'OTLP requests refused, by tenant (once known), signal and error code.'));
    this.quarantined = m.counter('stella_ingest_quarantined', 'Acknowledged records that could not be stored where they belong and were quarantined, by signal, tenant and reason.');
    this.bundleDuration = m.histogram('telemetry_bundle_generation_seconds', 'Time to build a forensic capture bundle (FOR-4).', BUNDLE_GENERATION_BUCKETS);
    this.bundleFailures = m.counter('telemetry_bundle_generation_failures', 'Forensic capture bundles that failed to build (FOR-4 alert input).');
    this.evidenceCommits = m.counter('stella_evidence_commits', 'Evidence bundles committed to the locker, by kind and outcome.');
    this.timelineLag = m.histogram('stella_timeline_ingest_lag_seconds', 'Time from a timeline event to the indexer storing it.');
    this.processDefects = m.counter('stella_process_defects', 'Errors that reached the process (unhandled rejections, uncaught exceptions): each is a defect.');

    // The series alerts read with increase() exist from the start.
    this.bundleFailures.add(0);
    for (const kind of DEFECT_KINDS) this.processDefects.add(0, { kind });
    for (const signal of SIGNALS) this.receiverAccepted.add(0, { tenant: options.selfTenant, signal });
    for (const kind of EVIDENCE_KINDS) for (const outcome of ['success', 'failure']) this.evidenceCommits.add(0, { kind, outcome });

    this.dora = {
      deployments: m.counter('dora_deployments', 'DORA: deployments recorded, by tenant, environment and outcome (DORA-2).'),
      failures: m.counter('dora_deployment_failure', 'DORA: deployments that were rolled back, hot-fixed or failed, by tenant, environment and outcome (DORA-2).'),
      leadTime: m.histogram('dora_lead_time_hours', 'DORA: lead time for changes, commit to deploy, in hours (DORA-2).', DORA_LEAD_TIME_BUCKETS, 'h'),
      recovery: m.histogram('dora_time_to_recovery_hours', 'DORA: time from an incident to its resolution, in hours (DORA-2).', DORA_RECOVERY_BUCKETS, 'h'),
      sloBreaches: m.counter('dora_slo_breach', 'DORA: deployments over the lead-time target and incidents over the recovery target, by tenant and metric (DORA-4).'),
      gauges: {
        setTenant: (tenant, values) => {
          if (values.length === 0) this.doraValues.delete(tenant);
          else this.doraValues.set(tenant, values);
        },
      },
    };
    const meter = handle.meterProvider.getMeter('stella-observability');
    const doraGauge = (name: string, description: string, read: (v: { frequencyPerDay: number; changeFailureRatePercent: number | null }) => number | null): void => {
      meter.createObservableGauge(name, { description }).addCallback((result) => {
        for (const [tenant, values] of this.doraValues) {
          for (const v of values) {
            const value = read(v);
            // Past the cardinality cap, label sets fold into the overflow series (the last value reported wins there).
            if (value !== null) result.observe(value, m.admit(name, { tenant, environment: v.environment }));
          }
        }
      });
    };
    doraGauge('dora_deployment_frequency_per_day', 'DORA: deployments per day over the trailing window (STELLA_DORA_GAUGE_WINDOW_DAYS), by tenant and environment (DORA-2).', (v) => v.frequencyPerDay);
    doraGauge('dora_change_failure_rate_percent', 'DORA: failed deployments in percent of all over the trailing window, by tenant and environment (DORA-2).', (v) => v.changeFailureRatePercent);

    this.incidentModes = {
      set: (tenant, active) => {
        this.incidentTenants.set(tenant, active);
      },
    };
    handle.meterProvider
      .getMeter('stella-observability')
      .createObservableGauge(INCIDENT_METRIC, { description: 'Incident mode per tenant: 1 on the series of its current state (INC-4).' })
      .addCallback((result) => {
        // Tenants past the cardinality cap share the overflow series, which reports whether any of them is on.
        const overflow = new Map<string, { attrs: Attributes; value: number }>();
        for (const [tenant, active] of this.incidentTenants) {
          for (const state of ['on', 'off'] as const) {
            const value = (state === 'on') === active ? 1 : 0;
            const attrs = m.admit(INCIDENT_METRIC, { tenant, state });
            if (attrs['tenant'] === tenant) {
              result.observe(value, attrs);
              continue;
            }
            const seen = overflow.get(state);
            overflow.set(state, { attrs: { ...attrs, state }, value: Math.max(seen?.value ?? 0, value) });
          }
        }
        for (const { attrs, value } of overflow.values()) result.observe(value, attrs);
      });
  }

  /** Reports a work queue's depth as `stella_queue_depth{queue}`; returns a function that stops it. */
  observeQueueDepth(queue: string, read: () => number): () => void {
    return this.handle.metrics.observeQueueDepth(queue, read);
  }

  /** The counter, also feeding the ingest rates of the tenant and signal it is told. */
  private rated(kind: RateKind, counter: CounterPoint): CounterPoint {
    return {
      add: (value, attributes) => {
        counter.add(value, attributes);
        const tenant = attributes?.['tenant'];
        const signal = attributes?.['signal'];
        if (typeof tenant === 'string' && typeof signal === 'string') this.ingestRates.record(kind, tenant, signal, value);
      },
    };
  }
}
