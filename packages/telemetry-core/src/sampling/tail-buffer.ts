/**
 * In-process tail sampling (CORE-5). A span the head sampler dropped is not recorded by the SDK;
 * the tail tracer (tail-tracer.ts) gives service code a `CandidateSpan` in its place, which
 * costs an object and nothing else. Candidates that end before their trace's local root wait
 * here, per trace. When the root ends, the trace is exported if any of its spans had an error
 * status, the root was slower than its route's threshold, or the trace's tenant went into
 * incident mode meanwhile; otherwise it is discarded and counted. Memory is capped by an
 * estimate of each waiting span's size, in total and per tenant, so a burst of one tenant's
 * traffic cannot crowd out the others or the host; a trace whose root never ends is swept.
 *
 * Sampled spans (head-sampled, incident mode) are the SDK's own and pass straight through.
 */
import { SpanStatusCode, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentFields } from '../context/context.js';
import type { TelemetryStats } from '../export/telemetry-stats.js';
import type { CandidateSink, CandidateSpan, CandidateTrace } from './candidate-span.js';
import type { IncidentModeRegistry } from './incident-mode.js';

export const TENANT_ATTRIBUTE = 'stella.tenant_id';
export const SAMPLING_REASON_ATTRIBUTE = 'stella.sampling.reason';

export interface TailBufferOptions {
  /** Root spans at least this slow keep their trace. Default 2000 ms (the interactive SLO threshold). */
  slowThresholdMs?: number;
  /** Per-route thresholds, keyed by root span name (`api.sbom.ingest`) or `http.route` (`/sbom/ingest`). Default none. */
  slowThresholdByRoute?: Record<string, number>;
  /** Cap on the estimated bytes of all waiting spans. Default 16 MiB. */
  maxBytes?: number;
  /** Cap on the estimated bytes waiting for one tenant (spans without a tenant share one bucket). Default 4 MiB. */
  maxBytesPerTenant?: number;
  /** A trace whose local root has not ended after this long is discarded. Default 60 000 ms. */
  maxTraceAgeMs?: number;
  /** How many kept trace ids are remembered (for exemplars of head-dropped but kept traces). Default 10 000. */
  decisionMemory?: number;
  /** Clock in ms; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

export class TailSamplingProcessor implements SpanProcessor, CandidateSink {
  /** Traces with spans waiting for their root, oldest first (for the sweep): a list through the traces themselves. */
  private readonly waiting = new WaitingList();
  /** Bytes waiting per tenant bucket; a trace holds its bucket's counter from its first waiting span. */
  private readonly buckets = new Map<string, { bytes: number }>();
  private readonly kept = new Set<string>();
  private totalBytes = 0;
  private lastSweep = 0;
  private readonly slowMs: number;
  private readonly byRoute: ReadonlyMap<string, number>;
  private readonly maxBytes: number;
  private readonly maxBytesPerTenant: number;
  private readonly maxAgeMs: number;
  private readonly memory: number;
  readonly now: () => number;

  constructor(
    private readonly next: SpanProcessor,
    private readonly stats: TelemetryStats,
    private readonly incidents: IncidentModeRegistry,
    private readonly service: string,
    options: TailBufferOptions = {},
  ) {
    this.slowMs = options.slowThresholdMs ?? 2000;
    this.byRoute = new Map(Object.entries(options.slowThresholdByRoute ?? {}));
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.maxBytesPerTenant = options.maxBytesPerTenant ?? 4 * 1024 * 1024;
    this.maxAgeMs = options.maxTraceAgeMs ?? 60_000;
    this.memory = options.decisionMemory ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  onStart(span: Span, parentContext: Context): void {
    // The tenant is whatever the context says when the span starts (CORE-3 context).
    const tenant = currentFields(parentContext).tenant_id;
    if (tenant !== undefined) span.setAttribute(TENANT_ATTRIBUTE, tenant);
    this.next.onStart(span, parentContext);
  }

  /** Recorded spans are sampled ones (the head sampler records nothing else): export them. */
  onEnd(span: ReadableSpan): void {
    this.next.onEnd(span);
  }

  candidateEnded(span: CandidateSpan): void {
    const entry = span.trace;
    if (entry.decision !== undefined) {
      // A span ending after its root: follow the decision already taken.
      if (entry.decision) this.export(span);
      return;
    }
    if (span.status.code === SpanStatusCode.ERROR) entry.error = true;
    if (span.isRoot) {
      this.decide(entry, span);
      return;
    }
    const size = span.estimateBytes();
    let bucket = entry.bucket;
    if (bucket === undefined) {
      const name = entry.tenant ?? '';
      bucket = this.buckets.get(name);
      if (bucket === undefined) {
        bucket = { bytes: 0 };
        this.buckets.set(name, bucket);
      }
      entry.bucket = bucket;
    }
    if (this.totalBytes + size > this.maxBytes || bucket.bytes + size > this.maxBytesPerTenant) {
      this.stats.drop('traces', 'tail_buffer_full');
      return;
    }
    if (entry.spans.length === 0) {
      this.sweep();
      this.waiting.push(entry);
      this.stats.tailBufferedTraces = this.waiting.size;
    }
    entry.spans.push(span);
    entry.bytes += size;
    bucket.bytes += size;
    this.totalBytes += size;
    this.stats.tailBufferedBytes = this.totalBytes;
  }

  /** Bytes currently held, in total and for one tenant (`''` = spans without a tenant). */
  bufferedBytes(tenant?: string): number {
    return tenant === undefined ? this.totalBytes : (this.buckets.get(tenant)?.bytes ?? 0);
  }

  /** Whether the tail sampler kept `traceId` (for exemplars of head-dropped but kept traces). */
  wasKept(traceId: string): boolean {
    return this.kept.has(traceId);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  async shutdown(): Promise<void> {
    for (let entry = this.waiting.first; entry !== undefined; entry = entry.next) {
      this.stats.drop('traces', 'shutdown', entry.spans.length);
      entry.decision = false;
      entry.spans = [];
    }
    this.waiting.clear();
    this.buckets.clear();
    this.totalBytes = 0;
    this.stats.tailBufferedBytes = 0;
    this.stats.tailBufferedTraces = 0;
    await this.next.shutdown();
  }

  private decide(entry: CandidateTrace, root: CandidateSpan): void {
    const waiting = entry.spans;
    this.release(entry);
    let reason: string | undefined;
    if (entry.error) reason = 'error';
    else if (root.durationMs >= this.thresholdFor(root)) reason = 'slow';
    else if (this.incidents.anyActive && this.incidents.isActive(entry.tenant, this.service)) reason = 'incident';
    entry.decision = reason !== undefined;
    if (reason === undefined) {
      this.stats.tailDiscarded += 1;
      return;
    }
    this.remember(root.spanContext().traceId);
    this.stats.keep(reason);
    for (const s of waiting) this.export(s);
    this.export(root, { [SAMPLING_REASON_ATTRIBUTE]: `tail.${reason}` });
  }

  private export(span: CandidateSpan, extra?: Record<string, string>): void {
    const tenant = span.tenant;
    this.next.onEnd(span.toReadableSpan(tenant !== undefined ? { [TENANT_ATTRIBUTE]: tenant, ...extra } : extra));
  }

  private thresholdFor(root: CandidateSpan): number {
    if (this.byRoute.size === 0) return this.slowMs;
    const byName = this.byRoute.get(root.name);
    if (byName !== undefined) return byName;
    const route = root.attribute('http.route');
    if (typeof route === 'string') {
      const byPath = this.byRoute.get(route);
      if (byPath !== undefined) return byPath;
    }
    return this.slowMs;
  }

  private release(entry: CandidateTrace): void {
    if (entry.spans.length === 0) return;
    this.waiting.remove(entry);
    entry.spans = [];
    this.totalBytes -= entry.bytes;
    if (entry.bucket) entry.bucket.bytes -= entry.bytes;
    entry.bytes = 0;
    this.stats.tailBufferedBytes = this.totalBytes;
    this.stats.tailBufferedTraces = this.waiting.size;
  }

  private remember(traceId: string): void {
    this.kept.add(traceId);
    if (this.kept.size > this.memory) {
      const oldest = this.kept.values().next().value;
      if (oldest !== undefined) this.kept.delete(oldest);
    }
  }

  /** Discards traces whose local root never ended (leaked or never-ending spans). */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (let entry = this.waiting.first; entry !== undefined; ) {
      const next = entry.next;
      if (now - entry.createdAt < this.maxAgeMs) break; // oldest first
      const n = entry.spans.length;
      this.release(entry);
      entry.decision = false;
      this.stats.drop('traces', 'tail_expired', n);
      entry = next;
    }
  }
}

/** An intrusive doubly-linked list of waiting traces: O(1) to add and remove, no map entry per trace. */
class WaitingList {
  first: CandidateTrace | undefined;
  last: CandidateTrace | undefined;
  size = 0;

  push(entry: CandidateTrace): void {
    entry.prev = this.last;
    entry.next = undefined;
    if (this.last) this.last.next = entry;
    else this.first = entry;
    this.last = entry;
    this.size += 1;
  }

  remove(entry: CandidateTrace): void {
    if (entry.prev) entry.prev.next = entry.next;
    else if (this.first === entry) this.first = entry.next;
    else return; // not in the list
    if (entry.next) entry.next.prev = entry.prev;
    else this.last = entry.prev;
    entry.prev = entry.next = undefined;
    this.size -= 1;
  }

  clear(): void {
    this.first = this.last = undefined;
    this.size = 0;
  }
}
