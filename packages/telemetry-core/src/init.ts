/**
 * `initTelemetry` — the one call a StellaOps service makes at start. It wires the
 * OpenTelemetry SDK (traces, metrics, logs) to telemetry-core's context, logger, scrubber,
 * sampling, backpressure and sealed-mode policy, and returns a handle whose `shutdown()`
 * flushes everything within a deadline. Calling it again while an instance is running
 * returns that instance; after `shutdown()` a new one can be started (tests do this with
 * in-memory exporters).
 *
 * `createTelemetry` builds the same pipeline as an instance its caller owns and wires, with
 * nothing process-wide: several can run in one process.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metrics as otelMetrics, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, NoopSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { fetchPropagationFromEnv, installFetchPropagation } from './context/fetch-propagation.js';
import type { RequestObserver } from './context/http.js';
import { TRACER_NAME } from './context/span-scope.js';
import { checkEgress, sealedFromEnv, type EgressPolicy, type EgressVerdict } from './egress/egress-guard.js';
import { BoundedLogProcessor, BoundedSpanProcessor, type BatchOptions } from './export/bounded-processors.js';
import { ErrorLogSpill } from './export/error-log-spill.js';
import { OtlpJsonFileExporter } from './export/file-exporter.js';
import { LogBridge, toSpilled } from './export/log-bridge.js';
import { ResilientExporter } from './export/resilient-exporter.js';
import { scrubSpans } from './export/scrub-spans.js';
import { TelemetryStats, type TelemetrySignal, type TelemetryStatsSnapshot } from './export/telemetry-stats.js';
import { setBreadcrumbPredicate } from './log/breadcrumbs.js';
import { LEVELS, type LevelName } from './log/fields.js';
import { getDefaultLogger, setTelemetryScrubPolicy, type Logger } from './log/logger.js';
import { addLogSink, type LogSink } from './log/sinks.js';
import { setActiveMetrics } from './metrics/active-metrics.js';
import type { CardinalityLimits } from './metrics/cardinality-guard.js';
import { ExemplarStore } from './metrics/exemplar-store.js';
import { TelemetryMetrics } from './metrics/instruments.js';
import { ExpositionReader, setActiveExpositionReader } from './metrics/metrics-endpoint.js';
import { GuardedInstruments } from './metrics/series-aggregation.js';
import { StellaHeadSampler } from './sampling/head-sampler.js';
import { IncidentModeRegistry, type IncidentModeSource } from './sampling/incident-mode.js';
import { TailSamplingProcessor, type TailBufferOptions } from './sampling/tail-buffer.js';
import { TailTracerProvider } from './sampling/tail-tracer.js';
import {
  resolvePolicyFile,
  TelemetryPolicyRuntime,
  type ActiveTelemetryPolicy,
  type PolicyReloadOptions,
  type TelemetryPolicyListener,
  type TelemetryPolicyReload,
} from './policy/policy-runtime.js';
import type { ScrubPolicy } from './scrub/index.js';

export interface TelemetryOptions {
  /** Service name (`service.name`). Required. */
  service: string;
  /** Default: `STELLA_VERSION` env. */
  version?: string;
  /** Default: `STELLA_ENV` env. */
  env?: string;
  /** Default: `STELLA_REGION` env. */
  region?: string;
  /** Default: `STELLA_INSTANCE_ID` env, else `<hostname>-<pid>`. */
  instanceId?: string;
  /**
   * OTLP/HTTP (protobuf) base endpoint; `/v1/traces`, `/v1/metrics`, `/v1/logs` are appended.
   * Default: `OTEL_EXPORTER_OTLP_ENDPOINT` env; none means no OTLP export.
   */
  endpoint?: string;
  /** Per-signal endpoints (full URLs; `file:` URLs write OTLP/JSON lines). Override `endpoint`. */
  endpoints?: Partial<Record<TelemetrySignal, string>>;
  /** Headers sent with every OTLP request (e.g. authorization). Default none. */
  headers?: Record<string, string>;
  /** Exporters to use instead of OTLP (in-memory exporters in tests). Not subject to the egress guard. */
  exporters?: { spans?: SpanExporter; metrics?: PushMetricExporter; logs?: LogRecordExporter };
  sampling?: {
    /** Head ratio for new traces. Default `STELLA_SAMPLING_RATIO` env, else 0.1. */
    ratio?: number;
    /** Tail buffer options, or false to disable tail sampling. Default enabled. */
    tail?: TailBufferOptions | false;
    /** Where incident modes come from. Default none (no incident override). */
    incidentSource?: IncidentModeSource;
  };
  metrics?: {
    /** OTLP metric push interval. Default 15 000 ms. */
    exportIntervalMillis?: number;
    cardinality?: CardinalityLimits;
    /** Request metrics from the HTTP middlewares. Default true. */
    requestMetrics?: boolean;
    /** Event-loop delay window. Default 10 000 ms. */
    eventLoopWindowMs?: number;
  };
  logs?: {
    /**
     * Lowest level exported over OTLP. Default `STELLA_LOG_EXPORT_LEVEL` env, else `warn`: every
     * line still goes to stdout, where a collector's file log receiver can pick it up; the OTLP
     * export carries warnings and errors (never sampled) and, for a tenant or service in incident
     * mode, everything down to the debug breadcrumbs. Set `info` to export info lines as well.
     */
    exportLevel?: LevelName;
    /** Directory for the error-log spill. Default `<os tmpdir>/stella-telemetry-spill/<service>`. */
    spillDir?: string;
    /** Default 1 MiB. */
    spillMaxFileBytes?: number;
    /** Default 8. */
    spillMaxFiles?: number;
  };
  /** Batch/queue settings per signal. */
  batch?: { traces?: BatchOptions; logs?: BatchOptions };
  /** OTLP request timeout. Default 5000 ms. */
  exportTimeoutMillis?: number;
  /** Circuit-breaker back-off after a failed export. Default 1000 ms doubling to 30 000 ms. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Sealed-mode egress policy. Default: sealed when `STELLA_SEALED=1`, empty allowlist. */
  egress?: EgressPolicy;
  /**
   * Scrub policy for span attributes and metric labels (logs use the logger's); the policy
   * file's fields are laid over it. Default: the built-in policy.
   */
  scrub?: ScrubPolicy;
  /**
   * Telemetry policy file (YAML or JSON, `version: 1`): the attribute allowlist and key rules for
   * span attributes and metric labels, and the sealed-mode egress allowlist. Its lists are added
   * to `scrub` and `egress.allowlist`; a scalar it sets replaces the option. A file that cannot
   * be used fails the start. Default: `STELLA_TELEMETRY_POLICY` env; `''` means no file.
   */
  policyFile?: string;
  /**
   * Following the policy file: a changed file is applied to span scrubbing and metric labels at
   * once (the egress allowlist at the next start), a broken one is logged and ignored. False
   * reads it once. Default: watch its directory (200 ms debounce) and stat it every 5 s.
   */
  policyReload?: PolicyReloadOptions | false;
  /** Logger for the library's own warnings. Default: the process default logger. */
  logger?: Logger;
  /** Clock (ms) for incident TTLs, tail-buffer ages and back-off; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

export interface ShutdownResult {
  /** False when the deadline passed before every provider finished flushing. */
  flushed: boolean;
}

export interface TelemetryHandle {
  readonly service: string;
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  readonly loggerProvider: LoggerProvider | undefined;
  readonly incidents: IncidentModeRegistry;
  readonly tail: TailSamplingProcessor;
  readonly metrics: TelemetryMetrics;
  /** telemetry-core's tracer on this instance's provider (for `fastifyTelemetry`'s `tracer`). */
  readonly tracer: Tracer;
  /**
   * Records a completed request in this instance's request metrics: the `observer` of
   * `fastifyTelemetry` for a `createTelemetry` instance (an `initTelemetry` instance already
   * observes every request of the process). Does nothing with `metrics.requestMetrics: false`.
   */
  readonly observeRequest: RequestObserver;
  /**
   * Where log lines enter this instance's log export (undefined without a log exporter): added
   * process-wide by `initTelemetry`; a `createTelemetry` owner passes it to its logger's `sinks`.
   */
  readonly logSink: LogSink | undefined;
  /** Egress decision per configured endpoint (allowed or blocked, with reason). */
  readonly egress: ReadonlyArray<EgressVerdict & { signal: TelemetrySignal }>;
  /** The telemetry policy in force: its file, when it was read, the compiled scrub policy, the egress allowlist. */
  readonly policy: ActiveTelemetryPolicy;
  /** Calls `listener` after each applied or rejected policy file change; returns the unsubscribe function. */
  onPolicyReload(listener: TelemetryPolicyListener): () => void;
  /** Reads the policy file now, as a change would; never throws (a problem is returned and logged). */
  reloadPolicy(): TelemetryPolicyReload;
  /** Self-metric counters (also exposed as metrics). */
  stats(): TelemetryStatsSnapshot;
  /** Exposition of this instance's metrics (`accept` picks OpenMetrics or Prometheus text). */
  renderMetrics(accept?: string): Promise<{ status: number; contentType: string; body: string }>;
  forceFlush(): Promise<void>;
  /** Flushes and stops everything. Default deadline 5000 ms. Idempotent. */
  shutdown(options?: { timeoutMs?: number }): Promise<ShutdownResult>;
}

let current: Promise<TelemetryHandle> | undefined;

/** Starts telemetry for this process, or returns the instance already running. */
export function initTelemetry(options: TelemetryOptions): Promise<TelemetryHandle> {
  if (!options || typeof options.service !== 'string' || options.service === '') {
    return Promise.reject(new TypeError('initTelemetry: options.service (the service name) is required'));
  }
  current ??= start(options, true).catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}

/**
 * Builds a telemetry instance that touches nothing process-wide: no global tracer or meter
 * provider, no process-wide log sink, request observer, metric helpers (`recordJourney`, ...)
 * or incident breadcrumbs. Its owner wires it — `tracer` and `observeRequest` into
 * `fastifyTelemetry`, `logSink` into its logger's `sinks`, `renderMetrics` behind its
 * `/metrics` route — and stops it with `shutdown()`. Any number can run in one process, each
 * with its own metrics. Set `logs.spillDir` per instance when several export logs.
 */
export function createTelemetry(options: TelemetryOptions): Promise<TelemetryHandle> {
  if (!options || typeof options.service !== 'string' || options.service === '') {
    return Promise.reject(new TypeError('createTelemetry: options.service (the service name) is required'));
  }
  return start(options, false);
}

const SIGNAL_PATHS: Record<TelemetrySignal, string> = { traces: '/v1/traces', metrics: '/v1/metrics', logs: '/v1/logs' };

function endpointFor(options: TelemetryOptions, signal: TelemetrySignal): string | undefined {
  const explicit = options.endpoints?.[signal];
  if (explicit) return explicit;
  const base = options.endpoint ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return base ? `${base.replace(/\/+$/, '')}${SIGNAL_PATHS[signal]}` : undefined;
}

function envLevel(name: string): LevelName | undefined {
  const raw = process.env[name]?.trim().toLowerCase();
  return raw && Object.hasOwn(LEVELS, raw) ? (raw as LevelName) : undefined;
}

function envRatio(): number | undefined {
  const raw = process.env['STELLA_SAMPLING_RATIO'];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

/** Builds the pipeline; `global` also installs it as the process's (initTelemetry). */
async function start(options: TelemetryOptions, global: boolean): Promise<TelemetryHandle> {
  const service = options.service;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? getDefaultLogger();
  const stats = new TelemetryStats();
  const incidents = new IncidentModeRegistry(now);
  // The policy file is read before anything uses it: the egress check, span scrubbing, metric labels.
  const policy = new TelemetryPolicyRuntime({
    file: resolvePolicyFile(options.policyFile),
    scrub: options.scrub,
    egressAllowlist: options.egress?.allowlist,
    logger,
    reload: options.policyReload,
    now,
  });
  const exportTimeout = options.exportTimeoutMillis ?? 5000;
  const backoff = { initialBackoffMs: options.backoff?.initialMs, maxBackoffMs: options.backoff?.maxMs, now };

  // Sealed-mode guard: decide every configured endpoint before any exporter exists.
  // Exporters are built once, for allowed endpoints only: a reloaded egress allowlist applies at the next start.
  const egressPolicy: EgressPolicy = {
    ...options.egress,
    allowlist: [...policy.current.egressAllowlist],
    sealed: options.egress?.sealed ?? sealedFromEnv(),
  };
  const verdicts: Array<EgressVerdict & { signal: TelemetrySignal }> = [];
  const allowedEndpoint: Partial<Record<TelemetrySignal, string>> = {};
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    if (options.exporters?.[signal === 'traces' ? 'spans' : signal]) continue;
    const endpoint = endpointFor(options, signal);
    if (!endpoint) continue;
    const verdict = { ...(await checkEgress(endpoint, egressPolicy)), signal };
    verdicts.push(verdict);
    if (verdict.allowed) allowedEndpoint[signal] = endpoint;
  }
  const blocked = verdicts.filter((v) => !v.allowed);
  if (blocked.length > 0) {
    // One structured warning for the whole configuration, naming each endpoint and the fix.
    const endpoints = [...new Set(blocked.map((v) => v.endpoint))];
    logger.warn(
      {
        action: 'telemetry.egress_blocked',
        resource: endpoints.join(' '),
        details: {
          blocked: blocked.map((v) => ({ signal: v.signal, endpoint: v.endpoint, reason: v.reason, addresses: v.addresses })),
          remediation: blocked[0]?.remediation,
        },
      },
      `sealed mode: telemetry exporters disabled for ${endpoints.join(', ')}; ${blocked[0]?.remediation ?? ''}`,
    );
  }

  const resource = resourceFromAttributes(
    Object.fromEntries(
      Object.entries({
        'service.name': service,
        'service.version': options.version ?? process.env['STELLA_VERSION'],
        'deployment.environment.name': options.env ?? process.env['STELLA_ENV'],
        'cloud.region': options.region ?? process.env['STELLA_REGION'],
        'service.instance.id': options.instanceId ?? process.env['STELLA_INSTANCE_ID'] ?? `${process.env['HOSTNAME'] ?? 'local'}-${process.pid}`,
      }).filter(([, v]) => v !== undefined && v !== ''),
    ) as Record<string, string>,
  );

  // Traces: head sampler → tail buffer → bounded batch processor → resilient exporter.
  const spanTarget =
    options.exporters?.spans ??
    (allowedEndpoint.traces
      ? allowedEndpoint.traces.startsWith('file:')
        ? new OtlpJsonFileExporter(allowedEndpoint.traces, (s: Parameters<SpanExporter['export']>[0]) => JsonTraceSerializer.serializeRequest(s))
        : new OTLPTraceExporter({ url: allowedEndpoint.traces, headers: options.headers, timeoutMillis: exportTimeout })
      : undefined);
  const spanExport = spanTarget
    ? new BoundedSpanProcessor(
        new ResilientExporter(spanTarget, { signal: 'traces', stats, prepare: (spans) => scrubSpans(spans, policy.current.scrub), ...backoff }) as unknown as SpanExporter,
        stats,
        options.batch?.traces,
      )
    : new NoopSpanProcessor();
  const tailOptions = options.sampling?.tail;
  const tail = new TailSamplingProcessor(spanExport, stats, incidents, service, { now, ...(tailOptions || {}) });
  const sampler = new StellaHeadSampler({ service, ratio: options.sampling?.ratio ?? envRatio() ?? 0.1, incidents });
  const tracerProvider = new BasicTracerProvider({ resource, sampler, spanProcessors: [tail] });
  // With tail sampling, head-dropped spans become cheap candidates the tail sampler can still keep.
  const tracing: TracerProvider = tailOptions === false ? tracerProvider : new TailTracerProvider(tracerProvider, sampler, tail, resource);
  const tracesRegistered = global && trace.setGlobalTracerProvider(tracing);
  if (global && !tracesRegistered) {
    logger.warn({ action: 'telemetry.tracer_provider_exists' }, 'another OpenTelemetry tracer provider is registered; telemetry-core spans go to it');
  }

  // Metrics: pull exposition (/metrics) always; OTLP push when an exporter is configured.
  const exemplarStore = new ExemplarStore();
  // Guarded counters and histograms keep their own series; each reader reads them through a producer.
  const guardedInstruments = new GuardedInstruments();
  const exposition = new ExpositionReader(exemplarStore, [guardedInstruments.producer(resource, TRACER_NAME, () => AggregationTemporality.CUMULATIVE)]);
  const metricTarget =
    options.exporters?.metrics ??
    (allowedEndpoint.metrics
      ? allowedEndpoint.metrics.startsWith('file:')
        ? fileMetricExporter(allowedEndpoint.metrics)
        : new OTLPMetricExporter({ url: allowedEndpoint.metrics, headers: options.headers, timeoutMillis: exportTimeout })
      : undefined);
  const readers = [exposition as ExpositionReader | PeriodicExportingMetricReader];
  if (metricTarget) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: countingMetricExporter(metricTarget, stats),
        metricProducers: [
          guardedInstruments.producer(resource, TRACER_NAME, (type) => metricTarget.selectAggregationTemporality?.(type) ?? AggregationTemporality.CUMULATIVE),
        ],
        exportIntervalMillis: options.metrics?.exportIntervalMillis ?? 15_000,
        exportTimeoutMillis: Math.min(exportTimeout, options.metrics?.exportIntervalMillis ?? 15_000),
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const metricsRegistered = global && otelMetrics.setGlobalMeterProvider(meterProvider);
  const telemetryMetrics = new TelemetryMetrics({
    service,
    meter: meterProvider.getMeter(TRACER_NAME),
    stats,
    incidents,
    limits: options.metrics?.cardinality,
    traceKept: (traceId, sampled) => sampled || tail.wasKept(traceId),
    eventLoopWindowMs: options.metrics?.eventLoopWindowMs,
    // Only the process's instance observes every request; an owned one is handed its own.
    requestMetrics: global && options.metrics?.requestMetrics !== false,
    exemplars: exemplarStore,
    instruments: guardedInstruments,
  });
  // Metric label values are scrubbed in the cardinality guard, with the policy in force.
  telemetryMetrics.setLabelPolicy(policy.current.scrub);
  // The process's loggers follow the policy file too (those created without a policy of their own).
  const followFile = global && policy.current.file !== undefined;
  if (followFile) setTelemetryScrubPolicy(policy.current.scrub);
  policy.onReload((event) => {
    if (!event.ok) return;
    telemetryMetrics.setLabelPolicy(event.policy.scrub);
    if (followFile) setTelemetryScrubPolicy(event.policy.scrub);
  });
  const observeRequest: RequestObserver =
    options.metrics?.requestMetrics === false ? () => undefined : (completion) => telemetryMetrics.recordRequest(completion);
  if (global) {
    setActiveMetrics(telemetryMetrics);
    setActiveExpositionReader(exposition);
  }

  // Logs: logger sink → OTLP logs; error records that cannot be delivered are spilled.
  const logTarget =
    options.exporters?.logs ??
    (allowedEndpoint.logs
      ? allowedEndpoint.logs.startsWith('file:')
        ? new OtlpJsonFileExporter(allowedEndpoint.logs, (r: ReadableLogRecord[]) => JsonLogsSerializer.serializeRequest(r))
        : new OTLPLogExporter({ url: allowedEndpoint.logs, headers: options.headers, timeoutMillis: exportTimeout })
      : undefined);
  let loggerProvider: LoggerProvider | undefined;
  let logSink: LogSink | undefined;
  let removeSink: (() => void) | undefined;
  if (logTarget) {
    const spill = new ErrorLogSpill(
      {
        dir: options.logs?.spillDir ?? join(tmpdir(), 'stella-telemetry-spill', service.replace(/[^A-Za-z0-9_.-]/g, '_')),
        maxFileBytes: options.logs?.spillMaxFileBytes,
        maxFiles: options.logs?.spillMaxFiles,
      },
      stats,
    );
    const isError = (r: ReadableLogRecord): boolean => (r.severityNumber ?? 0) >= 17;
    // The exporter re-sends through the bridge, which exists only once the provider does.
    const ref: { bridge?: LogBridge } = {};
    let draining = false;
    const logExporter = new ResilientExporter<ReadableLogRecord>(logTarget as never, {
      signal: 'logs',
      stats,
      ...backoff,
      onFailed: (records) => spill.append(records.filter(isError).map(toSpilled)),
      onSuccess: () => {
        // The endpoint is taking records: hand one spill file back to the pipeline.
        if (!spill.pending || draining || !ref.bridge) return;
        draining = true;
        queueMicrotask(() => {
          try {
            ref.bridge?.resend(spill.takeOldest());
          } finally {
            draining = false;
          }
        });
      },
    });
    loggerProvider = new LoggerProvider({
      resource,
      processors: [
        new BoundedLogProcessor(logExporter as unknown as LogRecordExporter, stats, (record) => spill.append([toSpilled(record)]) === 1, options.batch?.logs),
      ],
    });
    const exportLevel = LEVELS[options.logs?.exportLevel ?? envLevel('STELLA_LOG_EXPORT_LEVEL') ?? 'warn'];
    const bridge = new LogBridge(loggerProvider.getLogger(TRACER_NAME), {
      exportLevel,
      exportBelowLevel: (tenant) => incidents.anyActive && incidents.isActive(tenant, service),
    });
    ref.bridge = bridge;
    logSink = { minLevel: Math.min(exportLevel, LEVELS.debug), write: (line, level) => bridge.write(line, level) };
    if (global) removeSink = addLogSink(logSink);
  }

  // Incident mode: 100% sampling (in the sampler) and debug breadcrumbs for the scope.
  if (global) setBreadcrumbPredicate(({ tenantId, service: svc }) => incidents.anyActive && incidents.isActive(tenantId, svc));
  // Outgoing fetch carries the trace context it is made in (process-wide only; STELLA_FETCH_PROPAGATION=0 opts out).
  const removeFetchPropagation = global && fetchPropagationFromEnv() ? installFetchPropagation() : undefined;
  const unfollow = options.sampling?.incidentSource ? incidents.follow(options.sampling.incidentSource) : undefined;

  let stopping: Promise<ShutdownResult> | undefined;
  const handle: TelemetryHandle = {
    service,
    tracerProvider,
    meterProvider,
    loggerProvider,
    incidents,
    tail,
    metrics: telemetryMetrics,
    tracer: tracing.getTracer(TRACER_NAME),
    observeRequest,
    logSink,
    egress: verdicts,
    get policy() {
      return policy.current;
    },
    onPolicyReload: (listener) => policy.onReload(listener),
    reloadPolicy: () => policy.reload(),
    stats: () => stats.snapshot(),
    renderMetrics: async (accept) => {
      const format = accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
      try {
        return { status: 200, ...(await exposition.render(format)) };
      } catch {
        return { status: 503, contentType: 'text/plain; charset=utf-8', body: 'metrics collection failed\n' };
      }
    },
    forceFlush: async () => {
      await Promise.allSettled([tracerProvider.forceFlush(), loggerProvider?.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown: (opts = {}) => {
      stopping ??= (async () => {
        const deadline = opts.timeoutMs ?? 5000;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), deadline);
          timer.unref();
        });
        // Logs first: the last log lines may still be in the logger's sink.
        const flushAll = (async () => {
          await loggerProvider?.shutdown().catch(() => undefined);
          await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
          return true as const;
        })();
        const flushed = await Promise.race([flushAll, timeout]);
        clearTimeout(timer);
        removeSink?.();
        removeFetchPropagation?.();
        unfollow?.();
        policy.close();
        await options.sampling?.incidentSource?.close().catch(() => undefined);
        telemetryMetrics.shutdown();
        if (global) {
          setBreadcrumbPredicate(undefined);
          if (followFile) setTelemetryScrubPolicy(undefined);
          setActiveMetrics(undefined);
          setActiveExpositionReader(undefined);
          current = undefined;
        }
        if (tracesRegistered) trace.disable();
        if (metricsRegistered) otelMetrics.disable();
        return { flushed };
      })();
      return stopping;
    },
  };
  return handle;
}

/** Metric export through the same failure accounting as the other signals. */
function countingMetricExporter(inner: PushMetricExporter, stats: TelemetryStats): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, cb) {
      try {
        inner.export(metrics, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) {
            stats.exportFailures.metrics += 1;
            stats.drop('metrics', 'export_failed');
          }
          cb(result);
        });
      } catch (err) {
        stats.exportFailures.metrics += 1;
        stats.drop('metrics', 'export_failed');
        cb({ code: ExportResultCode.FAILED, error: err as Error });
      }
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  };
}

function fileMetricExporter(url: string): PushMetricExporter {
  const file = new OtlpJsonFileExporter<ResourceMetrics>(url, (items) => JsonMetricsSerializer.serializeRequest(items[0] as ResourceMetrics));
  return {
    export: (metrics, cb) => file.export([metrics], cb),
    forceFlush: () => file.forceFlush(),
    shutdown: () => file.shutdown(),
  };
}
