/**
 * The SDK's batch processors with an exact, observable queue bound in front. The SDK drops
 * silently when its queue is full; here the bound is checked first so every drop is counted
 * (`telemetry_dropped_total{reason="queue_full"}`), the depth is a gauge, and error-level
 * log records that would be dropped are spilled to disk instead (error logs are never lost
 * to backpressure).
 */
import { TraceFlags, type Context } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { BatchLogRecordProcessor, type LogRecordProcessor, type SdkLogRecord } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { TelemetryStats } from './telemetry-stats.js';

export interface BatchOptions {
  /** Records held while waiting for export. Default 2048 (spans), 4096 (logs). */
  maxQueueSize?: number;
  /** Default 512. */
  maxExportBatchSize?: number;
  /** Default 2000 ms. */
  scheduledDelayMillis?: number;
  /** Default 10 000 ms. */
  exportTimeoutMillis?: number;
}

export class BoundedSpanProcessor implements SpanProcessor {
  private readonly inner: BatchSpanProcessor;
  private readonly max: number;
  private closed = false;

  /** `exporter` must decrement `stats.queueDepth.traces` when it takes a batch (ResilientExporter does). */
  constructor(
    exporter: SpanExporter,
    private readonly stats: TelemetryStats,
    options: BatchOptions = {},
  ) {
    this.max = options.maxQueueSize ?? 2048;
    this.inner = new BatchSpanProcessor(exporter, {
      maxQueueSize: this.max,
      maxExportBatchSize: Math.min(options.maxExportBatchSize ?? 512, this.max),
      scheduledDelayMillis: options.scheduledDelayMillis ?? 2000,
      exportTimeoutMillis: options.exportTimeoutMillis ?? 10_000,
    });
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.closed) {
      this.stats.drop('traces', 'shutdown');
      return;
    }
    if (this.stats.queueDepth.traces >= this.max) {
      this.stats.drop('traces', 'queue_full');
      return;
    }
    this.stats.queueDepth.traces += 1;
    this.inner.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await this.inner.shutdown().catch(() => undefined);
  }
}

export class BoundedLogProcessor implements LogRecordProcessor {
  private readonly inner: BatchLogRecordProcessor;
  private readonly max: number;
  private closed = false;

  constructor(
    exporter: LogRecordExporter,
    private readonly stats: TelemetryStats,
    /** Takes error records the queue cannot hold; returns false if it could not keep them either. */
    private readonly spill: (record: SdkLogRecord) => boolean,
    options: BatchOptions = {},
  ) {
    this.max = options.maxQueueSize ?? 4096;
    this.inner = new BatchLogRecordProcessor({
      exporter,
      maxQueueSize: this.max,
      maxExportBatchSize: Math.min(options.maxExportBatchSize ?? 512, this.max),
      scheduledDelayMillis: options.scheduledDelayMillis ?? 2000,
      exportTimeoutMillis: options.exportTimeoutMillis ?? 10_000,
    });
  }

  onEmit(record: SdkLogRecord, _context?: Context): void {
    if (this.closed || this.stats.queueDepth.logs >= this.max) {
      const reason = this.closed ? 'shutdown' : 'queue_full';
      if ((record.severityNumber ?? 0) >= SeverityNumber.ERROR && this.spill(record)) return;
      this.stats.drop('logs', reason);
      return;
    }
    this.stats.queueDepth.logs += 1;
    this.inner.onEmit(record);
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await this.inner.shutdown().catch(() => undefined);
  }
}
