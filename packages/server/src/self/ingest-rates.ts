/**
 * Ingest rates over the last minute and the last five minutes, per tenant and signal, for
 * `GET /telemetry/status` (CLI-3's "ingest rates"). The counters on `/metrics` say how much was
 * received since the process started; this says how fast it arrives now, without a Prometheus
 * to compute `rate()`. Counts go into ten-second buckets in a ring per tenant and signal; a
 * bucket older than the longest window is reused. The number of tenants kept is bounded: past
 * the bound the tenant idle longest is forgotten (its counters on `/metrics` stay).
 *
 * The rates are this replica's: a tenant whose traffic is spread over several replicas sees each
 * replica's share (the cluster's total is the sum, or Prometheus over every replica's `/metrics`).
 */

export const RATE_SIGNALS = ['traces', 'metrics', 'logs'] as const;
export type RateSignal = (typeof RATE_SIGNALS)[number];

/** What is counted: items stored (spans, log records, data points), and requests refused. */
export type RateKind = 'accepted' | 'refused';

/** The windows reported, in seconds. */
export const RATE_WINDOWS_SECONDS = [60, 300] as const;

const BUCKET_MS = 10_000;
const BUCKETS = RATE_WINDOWS_SECONDS[RATE_WINDOWS_SECONDS.length - 1]! / (BUCKET_MS / 1000);

/** Tenants (times signals) kept at most; the default holds far more than the cardinality cap of `/metrics`. */
export const DEFAULT_MAX_RATE_KEYS = 3 * 4096;

interface Ring {
  /** Bucket number (ms / BUCKET_MS) each slot holds. */
  slots: Float64Array;
  accepted: Float64Array;
  refused: Float64Array;
  touchedAt: number;
}

export interface SignalRate {
  /** Items stored per second (spans, log records or data points). */
  accepted_per_second: number;
  /** OTLP requests refused per second. */
  refused_per_second: number;
}

export interface WindowRates {
  window_seconds: number;
  signals: Record<RateSignal, SignalRate>;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export class IngestRates {
  private readonly rings = new Map<string, Ring>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = DEFAULT_MAX_RATE_KEYS,
  ) {}

  record(kind: RateKind, tenant: string, signal: string, count: number): void {
    if (!(RATE_SIGNALS as readonly string[]).includes(signal) || !(count > 0)) return;
    const at = this.now();
    const key = `${tenant}\n${signal}`;
    let ring = this.rings.get(key);
    if (ring && Math.floor(ring.touchedAt / BUCKET_MS) !== Math.floor(at / BUCKET_MS)) {
      // Kept in the order of last use (moved once per bucket): the first is the idlest.
      this.rings.delete(key);
      this.rings.set(key, ring);
    }
    if (!ring) {
      if (this.rings.size >= this.maxKeys) this.rings.delete(this.rings.keys().next().value!);
      ring = { slots: new Float64Array(BUCKETS).fill(-1), accepted: new Float64Array(BUCKETS), refused: new Float64Array(BUCKETS), touchedAt: at };
      this.rings.set(key, ring);
    }
    const bucket = Math.floor(at / BUCKET_MS);
    const slot = bucket % BUCKETS;
    if (ring.slots[slot] !== bucket) {
      ring.slots[slot] = bucket;
      ring.accepted[slot] = 0;
      ring.refused[slot] = 0;
    }
    ring[kind][slot]! += count;
    ring.touchedAt = at;
  }

  /** The tenant's rates over each window, ending now; signals with no traffic are 0. */
  rates(tenant: string): WindowRates[] {
    const bucketNow = Math.floor(this.now() / BUCKET_MS);
    return RATE_WINDOWS_SECONDS.map((seconds) => {
      const span = seconds / (BUCKET_MS / 1000);
      const signals = {} as Record<RateSignal, SignalRate>;
      for (const signal of RATE_SIGNALS) {
        let accepted = 0;
        let refused = 0;
        const ring = this.rings.get(`${tenant}\n${signal}`);
        if (ring) {
          for (let i = 0; i < BUCKETS; i++) {
            const age = bucketNow - ring.slots[i]!;
            // The current bucket is partly filled: the window is the last `span` buckets including it.
            if (ring.slots[i]! >= 0 && age >= 0 && age < span) {
              accepted += ring.accepted[i]!;
              refused += ring.refused[i]!;
            }
          }
        }
        signals[signal] = { accepted_per_second: round(accepted / seconds), refused_per_second: round(refused / seconds) };
      }
      return { window_seconds: seconds, signals };
    });
  }
}
