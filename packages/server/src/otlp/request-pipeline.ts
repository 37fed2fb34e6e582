/**
 * What both OTLP receivers do with a decompressed request body, bounded in work and memory:
 *
 * 1. refuse early while the index is far behind (`checkBacklog`);
 * 2. count the request's items and nested values without decoding it (request-census.ts);
 *    past a limit → 413 `otlp.too_many_items`, before any object is built;
 * 3. add the decoded size those counts predict to the request's memory reservation; past the
 *    budget → 503 `otlp.overloaded` + Retry-After;
 * 4. prepare it (decode, judge, scrub, encode, index rows) — small, light requests on the event
 *    loop, the rest in a worker thread (prepare-pool.ts), where steps 2 and 3 happen too;
 * 5. store it (quota, append, fsync, index) on the event loop.
 *
 * The caller releases the reservation once the answer is sent.
 */
import { OtlpError } from './otlp-error.js';
import type { IngestResult, OtlpFormat, OtlpIngestor } from './otlp-ingest.js';
import type { Signal } from '../segments/signal-records.js';
import type { PreparePool } from './prepare-pool.js';
import type { PreparedRequest } from './otlp-prepare.js';
import type { Reservation } from './inflight-budget.js';
import { requestCensus, type Census, type CensusLimits } from './request-census.js';

/** Bodies up to this size may be prepared on the event loop (a 256 KiB batch of typical spans takes ~6 ms). */
export const INLINE_MAX_BYTES = 256 * 1024;
/** …if they also hold at most this many items plus values (an SDK batch of 512 spans with 10 attributes; ≤ ~8 ms). */
export const INLINE_MAX_OBJECTS = 8_000;

/**
 * Heap the decoded request is expected to take, per the census: measured with protobufjs over
 * small spans (≈500 B each decoded, ≈800 B through prepare with its index row) and attributes
 * (≈130–170 B each), rounded up; strings and the re-encoded payload are about the body again;
 * OTLP/JSON builds the parsed tree as well as the message, about twice as much.
 */
export function decodedBytesEstimate(census: Census, bodyBytes: number, format: OtlpFormat): number {
  const estimate = census.items * 1000 + census.values * 250 + bodyBytes * 2;
  return format === 'json' ? estimate * 2 : estimate;
}

export interface RequestPipelineOptions {
  ingestor: OtlpIngestor;
  /** Worker threads for large requests; absent → everything is prepared on the event loop. */
  pool: PreparePool | undefined;
  clock: () => number;
  limits: CensusLimits;
}

export class RequestPipeline {
  /** Refusals this pipeline (or the ingestor's `store`) has already counted. */
  private readonly counted = new WeakSet<object>();

  constructor(private readonly options: RequestPipelineOptions) {}

  /** Counts a refusal on the receiver's refusal counter (with the tenant once the caller is known), unless it was counted already. */
  countRefusal(signal: Signal, error: unknown, tenant?: string): void {
    if (typeof error === 'object' && error !== null) {
      if (this.counted.has(error)) return;
      this.counted.add(error);
    }
    this.options.ingestor.countRefusal(signal, error instanceof OtlpError ? error.code : 'otlp.internal', tenant);
  }

  /**
   * Runs one request body (decompressed, its bytes already in `reservation`) through census,
   * prepare and store. `body` may be handed to a worker: do not use it afterwards.
   * Rejects with `OtlpError` for a refusal (already counted).
   */
  async process(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat, reservation: Reservation): Promise<IngestResult> {
    const { ingestor } = this.options;
    const bodyBytes = body.byteLength;
    let prepared: PreparedRequest;
    try {
      ingestor.checkBacklog();
      prepared = await this.prepare(tenant, signal, body, format, reservation);
    } catch (error) {
      this.countRefusal(signal, error, tenant);
      throw error;
    }
    try {
      return await ingestor.store(tenant, signal, prepared, bodyBytes);
    } catch (error) {
      // `store` counts its own refusals.
      if (typeof error === 'object' && error !== null) this.counted.add(error);
      throw error;
    }
  }

  private async prepare(tenant: string, signal: Signal, body: Uint8Array, format: OtlpFormat, reservation: Reservation): Promise<PreparedRequest> {
    const { ingestor, pool, limits, clock } = this.options;
    const bodyBytes = body.byteLength;
    const admit = (census: Census): void => reservation.add(decodedBytesEstimate(census, bodyBytes, format));
    const usePool = pool !== undefined && pool.available;
    if (!usePool || bodyBytes <= INLINE_MAX_BYTES) {
      // Small bodies are counted on the event loop (well under a millisecond for 256 KiB).
      const census = requestCensus(signal, body, format, limits);
      admit(census);
      if (!usePool || census.items + census.values <= INLINE_MAX_OBJECTS) return ingestor.prepare(tenant, signal, body, format);
      return pool.prepare({ tenant, signal, format, body, receivedAtMs: clock(), limits: ingestor.limits, census: limits }, () => undefined);
    }
    return pool.prepare({ tenant, signal, format, body, receivedAtMs: clock(), limits: ingestor.limits, census: limits }, admit);
  }
}
