/**
 * Seals finished hours and applies STO-4 retention to the embedded store: each tenant's
 * segments older than its retention for that signal (its own setting, else the service
 * default) are removed with their index rows — unless a hold (an incident window plus margin,
 * INC-2) overlaps the segment's hour. Runs on an interval with the injectable clock;
 * `runOnce` is what tests and operators call.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { Signal } from '../otlp/otlp-proto.js';
import type { SqlStore } from '../store/sql-store.js';
import { hourStart, HOUR_MS, segmentId } from './segment-path.js';
import { TelemetryIndex } from './telemetry-index.js';
import type { TelemetryStore } from './telemetry-store.js';
import { PeriodicJob } from '../jobs/periodic-job.js';

const DAY_MS = 86_400_000;

export interface TelemetryRetentionOptions {
  telemetry: TelemetryStore;
  store: SqlStore;
  logger: Logger;
  clock: () => number;
  /** Default retention in days per signal. */
  defaults: Record<Signal, number>;
  /** Interval in ms. */
  intervalMs: number;
}

export interface RetentionRun {
  sealed: number;
  removed: { tenant: string; signal: Signal; hour: string; bytes: number }[];
  held: { tenant: string; signal: Signal; hour: string }[];
}

export class TelemetryRetentionJob extends PeriodicJob<RetentionRun> {
  constructor(private readonly options: TelemetryRetentionOptions) {
    super({ name: 'telemetry seal/retention', intervalMs: options.intervalMs, logger: options.logger });
  }

  protected async pass(): Promise<RetentionRun> {
    const { telemetry, store, clock, defaults, logger } = this.options;
    const now = clock();
    const sealed = await telemetry.segments.sealBefore(now);
    const run: RetentionRun = { sealed: sealed.length, removed: [], held: [] };
    for (const tenant of await telemetry.segments.tenants()) {
      const { days, holds } = await store.tenantTransaction(tenant, async (tx) => {
        const own = await tx.query<{ signal: Signal; days: number }>('SELECT signal, days FROM telemetry_retention');
        const h = await tx.query<{ from_ms: string; to_ms: string }>('SELECT from_ms, to_ms FROM telemetry_retention_holds');
        return {
          days: { ...defaults, ...Object.fromEntries(own.rows.map((r) => [r.signal, Number(r.days)])) } as Record<Signal, number>,
          holds: h.rows.map((r) => ({ from: Number(r.from_ms), to: Number(r.to_ms) })),
        };
      });
      for (const signal of ['traces', 'metrics', 'logs'] as const) {
        const cutoff = now - days[signal] * DAY_MS;
        for (const seg of await telemetry.segments.segments(tenant, signal)) {
          const start = hourStart(seg.hour);
          const end = start + HOUR_MS;
          if (end > cutoff) break;
          if (holds.some((h) => h.from < end && h.to > start)) {
            run.held.push({ tenant, signal, hour: seg.hour });
            continue;
          }
          // Index rows first: a crash in between leaves a segment without rows (re-indexable), never rows without data.
          await store.tenantTransaction(tenant, async (tx) => {
            await TelemetryIndex.removeSegmentRows(tx, tenant, segmentId(signal, seg.hour));
          });
          const bytes = await telemetry.segments.remove(tenant, signal, seg.hour);
          run.removed.push({ tenant, signal, hour: seg.hour, bytes });
        }
      }
    }
    if (run.removed.length > 0) logger.info({ details: { removed: run.removed.length, held: run.held.length } }, 'telemetry retention removed expired segments');
    return run;
  }
}
