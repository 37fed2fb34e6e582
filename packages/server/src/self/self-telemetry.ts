/**
 * The service observes itself with its own library (ARCHITECTURE principle 8): one
 * telemetry-core instance per service, built with `createTelemetry` so nothing process-wide is
 * touched — two services in one process (tests) keep their own metrics, spans and logs, and
 * `close()` stops exactly this one.
 *
 * - Metrics: the golden signals of its API (through its Fastify plugin), event-loop delay, CPU,
 *   memory, its export pipeline, and the service's own instruments (service-metrics.ts), served
 *   on `GET /metrics` (Prometheus text, or OpenMetrics with exemplars).
 * - Traces and logs: stored in its own telemetry store under the operator tenant
 *   (`STELLA_SELF_TENANT`), through the same OTLP ingest path every receiver uses, so the trace id
 *   the `stella` CLI prints is found by `GET /obs/trace/:id` in that tenant.
 *
 * No feedback loop: the tracer is handed to the API's Fastify plugin and to nothing else — no
 * global tracer provider is registered, the OTLP receivers have no HTTP instrumentation, and
 * the index writer opens no span — so storing telemetry never makes telemetry to store. The SDK
 * exports with tracing suppressed, and telemetry-core does not export log lines written while
 * it exports, so the self-ingest's own log lines stay on stdout.
 */
import { join } from 'node:path';
import {
  createTelemetry,
  otlpRequestExporters,
  type LogSink,
  type Logger,
  type RequestObserver,
  type TelemetryHandle,
  type TelemetrySignal,
} from '@stellaops/telemetry-core';
import type { Tracer } from '@opentelemetry/api';
import type { ServiceConfig } from '../config.js';
import { ServiceMetrics } from './service-metrics.js';

/** Stores one OTLP/protobuf export request of the service's own telemetry. */
export type SelfIngest = (signal: TelemetrySignal, body: Uint8Array) => Promise<unknown>;

/**
 * A log sink the service's logger is created with before its telemetry exists: lines reach the
 * telemetry once `attach`ed, and none after `detach`.
 */
export class LogLines implements LogSink {
  private target: LogSink | undefined;

  get minLevel(): number {
    return this.target?.minLevel ?? Number.POSITIVE_INFINITY;
  }

  write(line: string, level: number): void {
    this.target?.write(line, level);
  }

  attach(target: LogSink | undefined): void {
    this.target = target;
  }

  detach(): void {
    this.target = undefined;
  }
}

/**
 * Where exports wait until the store is open (telemetry starts before it, so start-up lines
 * are kept) and fail once it is closed. A failed export is counted by the pipeline
 * (`collector_export_failures_total`), never thrown.
 */
class StoreHandOver {
  private ingest: SelfIngest | undefined;
  private closed = false;

  get connected(): boolean {
    return this.ingest !== undefined;
  }
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  connect(ingest: SelfIngest): void {
    this.ingest = ingest;
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  close(): void {
    this.closed = true;
    this.ingest = undefined;
    for (const w of this.waiting.splice(0)) w.reject(new Error('the service is closed'));
  }

  readonly send = async (signal: TelemetrySignal, body: Uint8Array): Promise<void> => {
    if (!this.ingest && !this.closed) await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (!this.ingest) throw new Error('the telemetry store is closed');
    await this.ingest(signal, body);
  };
}

export interface SelfTelemetryOptions {
  config: ServiceConfig;
  service: string;
  version: string;
  /** The service's logger: the library's own notices go there. */
  logger: Logger;
  /** The sink the service's logger was created with; attached to this telemetry's log export. */
  logLines?: LogLines;
}

export class SelfTelemetry {
  readonly metrics: ServiceMetrics;
  private readonly store: StoreHandOver;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly handle: TelemetryHandle,
    store: StoreHandOver,
    private readonly options: SelfTelemetryOptions,
  ) {
    this.store = store;
    this.metrics = new ServiceMetrics(handle, { selfTenant: options.config.selfTenant });
    options.logLines?.attach(handle.logSink);
  }

  static async start(options: SelfTelemetryOptions): Promise<SelfTelemetry> {
    const { config } = options;
    const store = new StoreHandOver();
    const exporters = otlpRequestExporters(store.send);
    const handle = await createTelemetry({
      service: options.service,
      version: options.version,
      // Its own store and /metrics only: OTEL_EXPORTER_OTLP_ENDPOINT is for the services it observes.
      endpoint: '',
      exporters: config.selfTelemetry ? { spans: exporters.spans, logs: exporters.logs } : {},
      sampling: { ratio: config.selfSamplingRatio },
      // Its own log lines go to its own store in full: they are what /obs/logs shows of it.
      logs: { spillDir: join(config.dataDir, 'telemetry', 'self-spill'), exportLevel: 'info' },
      logger: options.logger,
    });
    return new SelfTelemetry(handle, store, options);
  }

  /** The tracer of the API's server spans. */
  get tracer(): Tracer {
    return this.handle.tracer;
  }

  /** Records a completed API request in the request metrics. */
  get observeRequest(): RequestObserver {
    return this.handle.observeRequest;
  }

  /** The exposition for `/metrics`: OpenMetrics with exemplars when `accept` asks for it, else Prometheus text. */
  renderMetrics(accept: string | undefined): Promise<{ status: number; contentType: string; body: string }> {
    return this.handle.renderMetrics(accept);
  }

  /** Starts storing: `ingest` takes each export request (the OTLP ingest path, under the operator tenant). */
  connect(ingest: SelfIngest): void {
    this.store.connect(ingest);
  }

  /** Stores every span and log record recorded so far. */
  async flush(): Promise<void> {
    await this.handle.forceFlush();
  }

  /** Stores what is buffered, then stops; later exports fail. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      // A service that never opened its store has nowhere to put what is buffered: fail it now rather than at the deadline.
      if (!this.store.connected) this.store.close();
      const { flushed } = await this.handle.shutdown({ timeoutMs: 5000 });
      this.options.logLines?.detach();
      this.store.close();
      if (!flushed) this.options.logger.warn({ action: 'self_telemetry.shutdown' }, "the service's own telemetry was not all stored before the shutdown deadline");
    })();
    return this.stopping;
  }
}
