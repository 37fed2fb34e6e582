/**
 * The failure boundary between the SDK's batch processors and a real exporter (CORE-10).
 * It keeps the queue-depth accounting exact (records leave the queue when a batch is handed
 * here), scrubs what is about to leave the process, counts failures, and opens a circuit
 * after a failed export so that, while the collector is down, batches fail fast without
 * network work instead of piling up retries — the host keeps its latency and memory. What
 * a failed batch held is handed to `onFailed` (the error-log spill) or counted as dropped.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { DropReason, TelemetrySignal, TelemetryStats } from './telemetry-stats.js';

/** The shape shared by SpanExporter and LogRecordExporter. */
export interface BatchExporter<T> {
  export(items: T[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

export interface ResilientExporterOptions<T> {
  signal: TelemetrySignal;
  stats: TelemetryStats;
  /** Mutates items in place just before export (attribute scrubbing). Never throws out. */
  prepare?: (items: T[]) => void;
  /** Takes care of items of a failed batch (e.g. spills error logs); returns how many it kept. */
  onFailed?: (items: T[]) => number;
  /** Called after every successful export (drains the error-log spill once the endpoint is back). */
  onSuccess?: () => void;
  /** Circuit-breaker back-off after the first failure. Default 1000 ms, doubling to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Whether batches reaching this exporter were counted into `stats.queueDepth`. Default true. */
  accountsQueue?: boolean;
  now?: () => number;
}

export class ResilientExporter<T> implements BatchExporter<T> {
  private consecutiveFailures = 0;
  private openUntil = 0;
  private readonly now: () => number;

  constructor(
    private readonly inner: BatchExporter<T>,
    private readonly options: ResilientExporterOptions<T>,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** True while the circuit is open (recent failure; exports fail fast). */
  get failing(): boolean {
    return this.consecutiveFailures > 0;
  }

  export(items: T[], resultCallback: (result: ExportResult) => void): void {
    const { stats, signal } = this.options;
    if (this.options.accountsQueue !== false) stats.queueDepth[signal] = Math.max(0, stats.queueDepth[signal] - items.length);
    if (this.consecutiveFailures > 0 && this.now() < this.openUntil) {
      this.fail(items, 'endpoint_down');
      resultCallback({ code: ExportResultCode.FAILED, error: new Error(`${signal} export skipped: endpoint down, retrying later`) });
      return;
    }
    try {
      this.options.prepare?.(items);
    } catch {
      // Scrubbing is best effort per item inside `prepare`; a bug there must not stall export.
    }
    let settled = false;
    const done = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      if (result.code === ExportResultCode.SUCCESS) {
        this.consecutiveFailures = 0;
        this.openUntil = 0;
        try {
          this.options.onSuccess?.();
        } catch {
          // Draining the spill is best effort; the next success tries again.
        }
      } else {
        stats.exportFailures[signal] += 1;
        this.consecutiveFailures += 1;
        const initial = this.options.initialBackoffMs ?? 1000;
        const backoff = Math.min(this.options.maxBackoffMs ?? 30_000, initial * 2 ** Math.min(this.consecutiveFailures - 1, 16));
        this.openUntil = this.now() + backoff;
        this.fail(items, 'export_failed');
      }
      resultCallback(result);
    };
    try {
      this.inner.export(items, done);
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  /** Lets the next export through at once (used after the caller learns the endpoint is back). */
  resetCircuit(): void {
    this.openUntil = 0;
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush?.();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private fail(items: T[], reason: DropReason): void {
    let kept: number;
    try {
      kept = this.options.onFailed?.(items) ?? 0;
    } catch {
      kept = 0;
    }
    this.options.stats.drop(this.options.signal, reason, items.length - kept);
  }
}
