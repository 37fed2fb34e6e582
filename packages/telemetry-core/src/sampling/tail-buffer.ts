/**
 * In-process tail sampling (CORE-5). Spans the head sampler dropped are recorded but not
 * exported; they wait here, per trace, until the trace's local root ends. The trace is then
 * exported when any span had an error status, the root was slower than its route's
 * threshold, or the trace's tenant went into incident mode meanwhile; otherwise it is
 * discarded and counted. Memory is capped by an estimate of each span's size, in total and
 * per tenant, so a burst of one tenant's traffic cannot crowd out the others or the host.
 */
import { SpanStatusCode, TraceFlags, type Context } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentFields } from '../context/context.js';
import type { TelemetryStats } from '../export/telemetry-stats.js';
import type { IncidentModeRegistry } from './incident-mode.js';

export const TENANT_ATTRIBUTE = 'stella.tenant_id';
export const SAMPLING_REASON_ATTRIBUTE = 'stella.sampling.reason';

export interface TailBufferOptions {
  /** Root spans at least this slow keep their trace. Default 2000 ms (the interactive SLO threshold). */
  slowThresholdMs?: number;
  /** Per-route thresholds, keyed by root span name (`api.sbom.ingest`) or `http.route` (`/sbom/ingest`). Default none. */
  slowThresholdByRoute?: Record<string, number>;
  /** Cap on the estimated bytes of all buffered spans. Default 16 MiB. */
  maxBytes?: number;
  /** Cap on the estimated bytes buffered for one tenant (spans without a tenant share one bucket). Default 4 MiB. */
  maxBytesPerTenant?: number;
  /** A trace whose local root has not ended after this long is discarded. Default 60 000 ms. */
  maxTraceAgeMs?: number;
  /** How many recent decisions are remembered for spans that end after their root. Default 10 000. */
  decisionMemory?: number;
  /** Clock in ms; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

interface TraceEntry {
  spans: ReadableSpan[];
  bytes: number;
  /** Tenant bucket the bytes are accounted to (fixed at creation). */
  bucket: string;
  tenant: string | undefined;
  error: boolean;
  createdAt: number;
}

/** Estimated retained size of a recorded span: fixed overhead plus its strings. */
export function estimateSpanBytes(span: ReadableSpan): number {
  let n = 320 + span.name.length * 2;
  const attrs = span.attributes;
  for (const key in attrs) n += 48 + key.length * 2 + valueBytes(attrs[key]);
  for (const ev of span.events) {
    n += 96 + ev.name.length * 2;
    if (ev.attributes) for (const key in ev.attributes) n += 48 + key.length * 2 + valueBytes(ev.attributes[key]);
  }
  n += span.links.length * 96;
  return n;
}

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return v.length * 2;
  if (Array.isArray(v)) {
    let n = 16;
    for (const x of v) n += typeof x === 'string' ? x.length * 2 + 8 : 8;
    return n;
  }
  return 8;
}

/** A view of `span` with the sampled flag set, for spans the tail buffer decided to keep. */
function promote(span: ReadableSpan): ReadableSpan {
  const sc = span.spanContext();
  const promoted = { ...sc, traceFlags: sc.traceFlags | TraceFlags.SAMPLED };
  return Object.create(span, { spanContext: { value: () => promoted } }) as ReadableSpan;
}

export class TailSamplingProcessor implements SpanProcessor {
  private readonly traces = new Map<string, TraceEntry>();
  private readonly tenantBytes = new Map<string, number>();
  private readonly decided = new Map<string, boolean>();
  private totalBytes = 0;
  private lastSweep = 0;
  private readonly slowMs: number;
  private readonly byRoute: Record<string, number>;
  private readonly maxBytes: number;
  private readonly maxBytesPerTenant: number;
  private readonly maxAgeMs: number;
  private readonly memory: number;
  private readonly now: () => number;

  constructor(
    private readonly next: SpanProcessor,
    private readonly stats: TelemetryStats,
    private readonly incidents: IncidentModeRegistry,
    private readonly service: string,
    options: TailBufferOptions = {},
  ) {
    this.slowMs = options.slowThresholdMs ?? 2000;
    this.byRoute = { ...options.slowThresholdByRoute };
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

  onEnd(span: ReadableSpan): void {
    const sc = span.spanContext();
    if ((sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED) {
      this.next.onEnd(span);
      return;
    }
    const traceId = sc.traceId;
    const decision = this.decided.get(traceId);
    if (decision !== undefined) {
      // A span ending after its root: follow the decision already taken.
      if (decision) this.next.onEnd(promote(span));
      return;
    }
    let entry = this.traces.get(traceId);
    const tenantAttr = span.attributes[TENANT_ATTRIBUTE] as string | undefined;
    if (!entry) {
      this.sweep();
      entry = { spans: [], bytes: 0, bucket: tenantAttr ?? '', tenant: tenantAttr, error: false, createdAt: this.now() };
      this.traces.set(traceId, entry);
      this.stats.tailBufferedTraces = this.traces.size;
    } else if (entry.tenant === undefined && tenantAttr !== undefined) {
      entry.tenant = tenantAttr;
    }
    if (span.status.code === SpanStatusCode.ERROR) entry.error = true;

    const size = estimateSpanBytes(span);
    const bucketBytes = this.tenantBytes.get(entry.bucket) ?? 0;
    if (this.totalBytes + size > this.maxBytes || bucketBytes + size > this.maxBytesPerTenant) {
      this.stats.drop('traces', 'tail_buffer_full');
    } else {
      entry.spans.push(span);
      entry.bytes += size;
      this.totalBytes += size;
      this.tenantBytes.set(entry.bucket, bucketBytes + size);
      this.stats.tailBufferedBytes = this.totalBytes;
    }

    const parent = span.parentSpanContext;
    if (parent === undefined || parent.isRemote === true) this.decide(traceId, entry, span);
  }

  /** Bytes currently held, in total and for one tenant (`''` = spans without a tenant). */
  bufferedBytes(tenant?: string): number {
    return tenant === undefined ? this.totalBytes : (this.tenantBytes.get(tenant) ?? 0);
  }

  /** Whether the tail buffer kept `traceId` (for exemplars of head-dropped but kept traces). */
  wasKept(traceId: string): boolean {
    return this.decided.get(traceId) === true;
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  async shutdown(): Promise<void> {
    for (const [, entry] of this.traces) this.stats.drop('traces', 'shutdown', entry.spans.length);
    this.traces.clear();
    this.tenantBytes.clear();
    this.totalBytes = 0;
    this.stats.tailBufferedBytes = 0;
    this.stats.tailBufferedTraces = 0;
    await this.next.shutdown();
  }

  private decide(traceId: string, entry: TraceEntry, root: ReadableSpan): void {
    this.release(traceId, entry);
    let reason: string | undefined;
    if (entry.error) reason = 'error';
    else if (hrTimeToMilliseconds(root.duration) >= this.thresholdFor(root)) reason = 'slow';
    else if (this.incidents.anyActive && this.incidents.isActive(entry.tenant, this.service)) reason = 'incident';
    this.remember(traceId, reason !== undefined);
    if (reason === undefined) {
      this.stats.tailDiscarded += 1;
      return;
    }
    this.stats.keep(reason);
    (root.attributes as Record<string, unknown>)[SAMPLING_REASON_ATTRIBUTE] = `tail.${reason}`;
    for (const s of entry.spans) this.next.onEnd(promote(s));
  }

  private thresholdFor(root: ReadableSpan): number {
    const byName = this.byRoute[root.name];
    if (byName !== undefined) return byName;
    const route = root.attributes['http.route'];
    if (typeof route === 'string') {
      const byPath = this.byRoute[route];
      if (byPath !== undefined) return byPath;
    }
    return this.slowMs;
  }

  private release(traceId: string, entry: TraceEntry): void {
    this.traces.delete(traceId);
    this.totalBytes -= entry.bytes;
    const left = (this.tenantBytes.get(entry.bucket) ?? 0) - entry.bytes;
    if (left <= 0) this.tenantBytes.delete(entry.bucket);
    else this.tenantBytes.set(entry.bucket, left);
    this.stats.tailBufferedBytes = this.totalBytes;
    this.stats.tailBufferedTraces = this.traces.size;
  }

  private remember(traceId: string, kept: boolean): void {
    this.decided.set(traceId, kept);
    if (this.decided.size > this.memory) {
      const oldest = this.decided.keys().next().value;
      if (oldest !== undefined) this.decided.delete(oldest);
    }
  }

  /** Discards traces whose local root never ended (leaked or never-ending spans). */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [traceId, entry] of this.traces) {
      if (now - entry.createdAt < this.maxAgeMs) break; // Map order is creation order.
      this.release(traceId, entry);
      this.remember(traceId, false);
      this.stats.drop('traces', 'tail_expired', entry.spans.length);
    }
  }
}
