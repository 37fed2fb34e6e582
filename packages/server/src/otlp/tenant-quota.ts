/**
 * STO-2 per-tenant ingest quotas: two token buckets per tenant (records/s and bytes/s), each
 * holding one second of burst. A request that would overdraw either is refused whole with the
 * time until it would fit, so one noisy tenant gets 429s while the others keep their share.
 */
export interface QuotaVerdict {
  ok: boolean;
  /** Seconds until the request would fit (when refused). */
  retryAfterSeconds: number;
  /** Which bucket refused. */
  limit?: 'records' | 'bytes';
}

interface Bucket {
  records: number;
  bytes: number;
  at: number;
}

export class TenantQuota {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly recordsPerSec: number,
    private readonly bytesPerSec: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes `records` and `bytes` from the tenant's buckets, or refuses without taking any. */
  take(tenant: string, records: number, bytes: number): QuotaVerdict {
    const now = this.clock();
    let b = this.buckets.get(tenant);
    if (!b) {
      b = { records: this.recordsPerSec, bytes: this.bytesPerSec, at: now };
      this.buckets.set(tenant, b);
    }
    const elapsed = Math.max(0, now - b.at) / 1000;
    b.records = Math.min(this.recordsPerSec, b.records + elapsed * this.recordsPerSec);
    b.bytes = Math.min(this.bytesPerSec, b.bytes + elapsed * this.bytesPerSec);
    b.at = now;
    // A single request larger than a whole second's budget is admitted when the bucket is full,
    // otherwise it could never pass; it then leaves the bucket in debt.
    const recordsShort = records - b.records;
    const bytesShort = bytes - b.bytes;
    const full = b.records >= this.recordsPerSec && b.bytes >= this.bytesPerSec;
    if ((recordsShort > 0 || bytesShort > 0) && !full) {
      const wait = Math.max(recordsShort / this.recordsPerSec, bytesShort / this.bytesPerSec);
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)), limit: recordsShort / this.recordsPerSec >= bytesShort / this.bytesPerSec ? 'records' : 'bytes' };
    }
    b.records -= records;
    b.bytes -= bytes;
    return { ok: true, retryAfterSeconds: 0 };
  }
}
