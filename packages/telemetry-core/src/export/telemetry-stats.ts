/**
 * Self-observation counters of the telemetry pipeline (CORE-10). Plain numbers updated on the
 * hot path without allocation; the metrics layer exposes them as
 * `collector_export_failures_total{signal}`, `telemetry_export_queue_depth{signal}`,
 * `telemetry_dropped_total{signal,reason}` and the tail-sampling counters, and tests read
 * them directly through `snapshot()`.
 */
export type TelemetrySignal = 'traces' | 'metrics' | 'logs';

/** Why a record was not delivered. Declared drop policy: see docs/telemetry-standards.md. */
export type DropReason =
  | 'queue_full'
  | 'export_failed'
  | 'endpoint_down'
  | 'tail_buffer_full'
  | 'tail_expired'
  | 'spill_full'
  | 'sealed'
  | 'shutdown';

export interface TelemetryStatsSnapshot {
  exportFailures: Record<TelemetrySignal, number>;
  queueDepth: Record<TelemetrySignal, number>;
  dropped: Record<string, number>;
  tail: { kept: Record<string, number>; discarded: number; bufferedBytes: number; bufferedTraces: number };
  spill: { written: number; resent: number; pendingBytes: number };
}

export class TelemetryStats {
  readonly exportFailures: Record<TelemetrySignal, number> = { traces: 0, metrics: 0, logs: 0 };
  readonly queueDepth: Record<TelemetrySignal, number> = { traces: 0, metrics: 0, logs: 0 };
  /** Key `signal|reason`. */
  readonly dropped = new Map<string, number>();
  readonly tailKept = new Map<string, number>();
  tailDiscarded = 0;
  tailBufferedBytes = 0;
  tailBufferedTraces = 0;
  spillWritten = 0;
  spillResent = 0;
  spillPendingBytes = 0;

  constructor() {
    // The usual drop series exist from the start at 0, so rate() and alerts see them before the first drop.
    for (const reason of ['queue_full', 'export_failed', 'endpoint_down', 'tail_buffer_full', 'tail_expired'] as const) this.dropped.set(`traces|${reason}`, 0);
    for (const reason of ['queue_full', 'export_failed', 'endpoint_down', 'spill_full'] as const) this.dropped.set(`logs|${reason}`, 0);
    this.dropped.set('metrics|export_failed', 0);
  }

  drop(signal: TelemetrySignal, reason: DropReason, count = 1): void {
    if (count <= 0) return;
    const key = `${signal}|${reason}`;
    this.dropped.set(key, (this.dropped.get(key) ?? 0) + count);
  }

  droppedCount(signal: TelemetrySignal, reason: DropReason): number {
    return this.dropped.get(`${signal}|${reason}`) ?? 0;
  }

  keep(reason: string): void {
    this.tailKept.set(reason, (this.tailKept.get(reason) ?? 0) + 1);
  }

  snapshot(): TelemetryStatsSnapshot {
    return {
      exportFailures: { ...this.exportFailures },
      queueDepth: { ...this.queueDepth },
      dropped: Object.fromEntries(this.dropped),
      tail: {
        kept: Object.fromEntries(this.tailKept),
        discarded: this.tailDiscarded,
        bufferedBytes: this.tailBufferedBytes,
        bufferedTraces: this.tailBufferedTraces,
      },
      spill: { written: this.spillWritten, resent: this.spillResent, pendingBytes: this.spillPendingBytes },
    };
  }
}
