/**
 * The receiver's memory budget, shared by OTLP/HTTP and OTLP/gRPC (the Collector's
 * memory_limiter, by accounting rather than by sampling the heap): every request holds a
 * reservation that grows with what it actually keeps — the compressed body as it arrives, the
 * decompressed body as it is inflated, an estimate of the decoded objects once its items are
 * counted — and is released when the answer is sent. A reservation that would take the total
 * past the limit fails with `otlp.overloaded` (503 / UNAVAILABLE + Retry-After), so concurrent
 * requests cannot jointly overshoot. One request alone holds at most the whole budget: the item
 * limits bound what a single request can cost, and a request the budget could never admit would
 * otherwise be retried forever.
 */
import { OtlpError } from './otlp-error.js';

export class InflightBudget {
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes reserved by requests in progress. */
  get inflight(): number {
    return this.held;
  }

  /** A new, empty reservation for one request. */
  open(): Reservation {
    return new Reservation(this);
  }

  /** @internal Moves `delta` bytes into (positive) or out of (negative) the budget; false when it does not fit. */
  shift(delta: number): boolean {
    if (delta > 0 && this.held + delta > this.maxBytes) return false;
    this.held += delta;
    return true;
  }
}

export class Reservation {
  /** What the request asked for. */
  private wanted = 0;
  /** What it holds: `wanted`, capped at the whole budget. */
  private holding = 0;
  private released = false;

  constructor(private readonly budget: InflightBudget) {}

  get bytes(): number {
    return this.holding;
  }

  /** Adds `n` bytes; throws `otlp.overloaded` (and keeps what it held) when the budget cannot take them. */
  add(n: number): void {
    if (this.released) throw new OtlpError('otlp.unavailable', 'the request was abandoned', 1);
    const wanted = this.wanted + n;
    const holding = Math.min(wanted, this.budget.maxBytes);
    if (!this.budget.shift(holding - this.holding)) {
      throw new OtlpError('otlp.overloaded', `the receiver is at its memory limit (${this.budget.maxBytes} bytes held by requests in progress); retry after the delay`, 1);
    }
    this.wanted = wanted;
    this.holding = holding;
  }

  /** Gives back `n` bytes the request no longer holds (e.g. the compressed body once inflated). */
  subtract(n: number): void {
    if (this.released) return;
    this.wanted = Math.max(0, this.wanted - n);
    const holding = Math.min(this.wanted, this.budget.maxBytes);
    this.budget.shift(holding - this.holding);
    this.holding = holding;
  }

  /** Gives everything back; idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.shift(-this.holding);
    this.holding = 0;
    this.wanted = 0;
  }
}
