/**
 * One OTLP export request from body to disk: prepare it (decode, check the tenant, judge and
 * normalise every item, scrub, encode — otlp-prepare.ts), take the tenant's quota, append the
 * record to the tenant's segment, wait until the segment is on stable storage (group commit),
 * then hand the record's index rows to the indexer. The answer is sent only after that wait:
 * a 2xx means the record survives a crash; the index catches up from the segments if needed.
 * With `indexBeforeAnswer` (replicas sharing PostgreSQL and the segments) the answer also waits
 * until the record's index rows are committed, so every replica finds an acknowledged record at
 * once (read-after-write across replicas: 0 s while the database answers).
 * Either the whole record is appended or nothing is: a refusal never leaves anything behind.
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { CounterPoint } from '../self/service-metrics.js';
import type { RecordRows } from '../segments/index-rows.js';
import { SegmentError, type AppendedRecord, type SegmentStore } from '../segments/segment-store.js';
import type { TelemetryIndex } from '../segments/telemetry-index.js';
import { OtlpError } from './otlp-error.js';
import { DEFAULT_PREPARE_LIMITS, prepareRequest, type OtlpFormat, type PreparedRequest, type PrepareLimits } from './otlp-prepare.js';
import type { Signal } from '../segments/signal-records.js';
import type { OtlpScrubber } from './otlp-scrub.js';
import type { TenantQuota } from './tenant-quota.js';

export type { OtlpFormat } from './otlp-prepare.js';
export { anyValueToJson, attributesToJson } from '../segments/index-rows.js';

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** Why items were rejected (partial success), if any were. */
  message?: string;
}

export interface OtlpIngestorOptions {
  segments: SegmentStore;
  index: TelemetryIndex;
  scrubber: OtlpScrubber;
  quota: TenantQuota;
  logger: Logger;
  clock: () => number;
  /** Index rows waiting beyond which requests are refused with 503 + Retry-After. Default 500000. */
  maxIndexBacklog?: number;
  limits?: PrepareLimits;
  /**
   * Answer only once the record's index rows are committed (the index is read by other
   * replicas, which cannot see this one's queue). Default false: the index catches up within
   * its flush interval, and this replica's own reads flush it first.
   */
  indexBeforeAnswer?: boolean;
  /**
   * Longest wait for the index with `indexBeforeAnswer`, in ms; past it the record (durable)
   * is acknowledged anyway and becomes visible when the index catches up. Default 10000.
   */
  indexWaitMs?: number;
  /** `telemetry_receiver_accepted_total{tenant,signal}` and `telemetry_receiver_refused_total{tenant,signal,error_code}`. Default: not counted. */
  metrics?: { accepted: CounterPoint; refused: CounterPoint };
}

const UNCOUNTED: CounterPoint = { add: () => undefined };

export class OtlpIngestor {
  private readonly maxBacklog: number;
  private readonly accepted: CounterPoint;
  private readonly refused: CounterPoint;
  /** Refusals already counted (an error passes `refusal` more than once on its way out). */
  private readonly counted = new WeakSet<OtlpError>();

  constructor(private readonly options: OtlpIngestorOptions) {
    this.maxBacklog = options.maxIndexBacklog ?? 500_000;
    this.accepted = options.metrics?.accepted ?? UNCOUNTED;
    this.refused = options.metrics?.refused ?? UNCOUNTED;
  }

  /** Counts a refusal that happened before `ingest` (transport-level errors; `tenant` once the caller is known). */
  countRefusal(signal: Signal, code: string, tenant?: string): void {
    this.refused.add(1, refusalLabels(signal, code, tenant));
  }

  /** The item limits `prepare` applies (for callers that prepare elsewhere, e.g. in a worker). */
  get limits(): PrepareLimits {
    return this.options.limits ?? DEFAULT_PREPARE_LIMITS;
  }

  get scrubber(): OtlpScrubber {
    return this.options.scrubber;
  }

  /** Prepares one request body (already decompressed) on the calling thread. */
  prepare(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat): PreparedRequest {
    return prepareRequest(tenant, signal, body, format, this.options.scrubber, this.options.clock(), this.limits);
  }

  /** Ingests one request body (already decompressed). Rejects with `OtlpError` for a refusal. */
  async ingest(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat): Promise<IngestResult> {
    try {
      this.checkBacklog();
      return await this.store(tenant, signal, this.prepare(tenant, signal, body, format), body.byteLength);
    } catch (error) {
      throw this.refusal(signal, error, tenant);
    }
  }

  /** Refuses new work while the index is far behind (the segments keep everything, but memory is bounded). */
  checkBacklog(): void {
    if (this.options.index.backlog > this.maxBacklog) {
      throw new OtlpError('otlp.overloaded', 'the receiver is behind on indexing; retry after the delay', 1);
    }
  }

  /** Stores a prepared request: quota, append, durable, index. Rejects with `OtlpError`. */
  async store(tenant: string, signal: Signal, prepared: PreparedRequest, bodyBytes: number): Promise<IngestResult> {
    const { segments, index, quota, clock } = this.options;
    try {
      if (prepared.accepted === 0 && prepared.rejected === 0) return { accepted: 0, rejected: 0 };
      if (prepared.accepted > 0) {
        const verdict = quota.take(tenant, prepared.accepted, bodyBytes);
        if (!verdict.ok) {
          throw new OtlpError('otlp.quota_exceeded', `tenant "${tenant}" is over its ingest quota of ${verdict.limit === 'bytes' ? 'bytes' : 'records'} per second`, verdict.retryAfterSeconds);
        }
        const at = segments.append(tenant, signal, clock(), prepared.accepted, prepared.payload);
        await segments.durable();
        if (this.options.indexBeforeAnswer) await this.indexed(tenant, at, prepared.rows);
        else index.addRecord(tenant, at, prepared.rows);
      }
      this.accepted.add(prepared.accepted, { tenant, signal });
      return prepared.rejected > 0 ? { accepted: prepared.accepted, rejected: prepared.rejected, message: prepared.message } : { accepted: prepared.accepted, rejected: 0 };
    } catch (error) {
      throw this.refusal(signal, error, tenant);
    }
  }

  /** Waits (bounded) until the record's index rows are committed. Never rejects. */
  private async indexed(tenant: string, at: AppendedRecord, rows: RecordRows): Promise<void> {
    const waitMs = this.options.indexWaitMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
    try {
      if ((await Promise.race([this.options.index.indexed(tenant, at, rows), late])) === 'late') {
        this.options.logger.warn(
          { tenant_id: tenant, details: { segment: at.segment, offset: at.offset, wait_ms: waitMs } },
          'telemetry index not committed in time; the durable record is acknowledged and becomes visible when the index catches up',
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Maps a failure to the `OtlpError` the client sees (storage faults are 503, retryable) and counts it. */
  private refusal(signal: Signal, error: unknown, tenant: string): unknown {
    if (error instanceof OtlpError) {
      if (!this.counted.has(error)) {
        this.counted.add(error);
        this.refused.add(1, refusalLabels(signal, error.code, tenant));
      }
      return error;
    }
    if (error instanceof SegmentError) {
      this.options.logger.error({ err: error, error_code: error.code }, 'telemetry segment write failed; answering 503');
      const e = new OtlpError('otlp.unavailable', 'the telemetry store cannot write right now; retry after the delay', 5, { cause: error });
      this.counted.add(e);
      this.refused.add(1, refusalLabels(signal, e.code, tenant));
      return e;
    }
    return error;
  }
}

function refusalLabels(signal: Signal, code: string, tenant: string | undefined): Record<string, string> {
  return tenant === undefined ? { signal, error_code: code } : { tenant, signal, error_code: code };
}
