/**
 * Candidate spans: what a span the head sampler dropped becomes while tail sampling is on.
 *
 * Recording every head-dropped span with the SDK (attribute limits, processors, buffering)
 * costs more per request than exporting it. A candidate is a plain object holding only what
 * the span was given — name, start, attributes, status, events — under the ids the SDK minted
 * for its non-recording span. Nothing is converted, sized or copied unless the trace is kept:
 * when its local root ends slow, failed or under incident mode, the candidates of the trace
 * become ordinary `ReadableSpan`s for the exporter; otherwise they are dropped with the request.
 */
import type {
  SpanKind} from '@opentelemetry/api';
import {
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import { hrTimeToMilliseconds, millisToHrTime, sanitizeAttributes, timeInputToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** Events kept per candidate span (exceptions first of all); the rest are counted as dropped. */
const MAX_EVENTS = 32;
const MAX_LINKS = 32;

/** Where a candidate reports its end: the tail sampler. */
export interface CandidateSink {
  candidateEnded(span: CandidateSpan): void;
}

/** The local trace a candidate belongs to: its root decides for every span of it. */
export class CandidateTrace {
  /** Candidate spans that ended before the root, waiting for its decision. */
  spans: CandidateSpan[] = [];
  bytes = 0;
  /** Set on the first buffered span: the tenant bucket the bytes are accounted to. */
  bucket: { bytes: number } | undefined;
  error = false;
  /** undefined while the root is open; then whether the trace was kept. */
  decision: boolean | undefined;
  /** Neighbours in the tail sampler's list of traces with waiting spans. */
  prev: CandidateTrace | undefined;
  next: CandidateTrace | undefined;
  readonly createdAt: number;

  constructor(
    readonly root: CandidateSpan | undefined,
    readonly tenant: string | undefined,
    now: number,
  ) {
    this.createdAt = now;
  }
}

export interface CandidateScope {
  resource: Resource;
  instrumentationScope: ReadableSpan['instrumentationScope'];
}

function epochMs(time: TimeInput | undefined): number {
  if (time === undefined) return performance.timeOrigin + performance.now();
  return hrTimeToMilliseconds(timeInputToHrTime(time));
}

export class CandidateSpan implements Span {
  /** The local trace; assigned by the tracer (a root creates it). */
  trace!: CandidateTrace;
  name: string;
  /** The attributes the span started with (not copied: only read if the trace is kept). */
  private readonly initial: Attributes | undefined;
  /** Attributes set later, as key/value pairs in order (merged over `initial` when read). */
  private later: Array<string | AttributeValue> | undefined;
  events: Array<{ name: string; attributes?: Attributes; timeMs: number }> | undefined;
  links: Link[] | undefined;
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly startMs: number;
  endMs = -1;
  droppedEvents = 0;
  droppedLinks = 0;

  constructor(
    private readonly context: SpanContext,
    name: string,
    readonly kind: SpanKind,
    attributes: Attributes | undefined,
    links: Link[] | undefined,
    startTime: TimeInput | undefined,
    /** The parent's span context (remote caller, or a local candidate); undefined for a new trace. */
    readonly parentSpanContext: SpanContext | undefined,
    readonly tenant: string | undefined,
    private readonly sink: CandidateSink,
    readonly scope: CandidateScope,
  ) {
    this.name = name;
    this.initial = attributes;
    this.links = links && links.length > 0 ? links.slice(0, MAX_LINKS) : undefined;
    this.startMs = epochMs(startTime);
  }

  /** The span's attributes now: the initial ones with later ones laid over them. */
  get attributes(): Attributes {
    const out: Attributes = { ...this.initial };
    const later = this.later;
    if (later) for (let i = 0; i < later.length; i += 2) out[later[i] as string] = later[i + 1] as AttributeValue;
    return out;
  }

  /** One attribute's current value. */
  attribute(key: string): AttributeValue | undefined {
    const later = this.later;
    if (later) for (let i = later.length - 2; i >= 0; i -= 2) if (later[i] === key) return later[i + 1] as AttributeValue;
    return this.initial?.[key];
  }

  get isRoot(): boolean {
    return this.trace.root === this;
  }

  get ended(): boolean {
    return this.endMs >= 0;
  }

  get durationMs(): number {
    return this.endMs >= 0 ? this.endMs - this.startMs : 0;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.endMs < 0 && value !== undefined && value !== null) (this.later ??= []).push(key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.endMs < 0) for (const key in attributes) this.setAttribute(key, attributes[key] as AttributeValue);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.endMs >= 0) return this;
    const events = (this.events ??= []);
    if (events.length >= MAX_EVENTS) {
      this.droppedEvents += 1;
      return this;
    }
    const isTime = typeof attributesOrTime === 'number' || attributesOrTime instanceof Date || Array.isArray(attributesOrTime);
    events.push({
      name,
      attributes: isTime ? undefined : (attributesOrTime as Attributes | undefined),
      timeMs: epochMs(isTime ? (attributesOrTime as TimeInput) : time),
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.endMs >= 0) return this;
    const links = (this.links ??= []);
    if (links.length >= MAX_LINKS) this.droppedLinks += 1;
    else links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.endMs >= 0) return this;
    // As in the SDK: OK is final, UNSET never overrides.
    if (this.status.code === SpanStatusCode.OK || status.code === SpanStatusCode.UNSET) return this;
    this.status = { code: status.code, message: status.code === SpanStatusCode.ERROR ? status.message : undefined };
    return this;
  }

  updateName(name: string): this {
    if (this.endMs < 0) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.endMs >= 0) return;
    const end = epochMs(endTime);
    this.endMs = end < this.startMs ? this.startMs : end;
    this.sink.candidateEnded(this);
  }

  /** It records what it is given locally; whether it is exported is decided when its trace's root ends. */
  isRecording(): boolean {
    return this.endMs < 0;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception) {
      const e = exception as { name?: string; code?: string | number; message?: string; stack?: string };
      const type = e.code !== undefined ? String(e.code) : e.name;
      if (type) attributes['exception.type'] = type;
      if (e.message) attributes['exception.message'] = e.message;
      if (e.stack) attributes['exception.stacktrace'] = e.stack;
    }
    this.addEvent('exception', attributes, time);
  }

  /** Rough retained size, for the tail buffer's caps (only computed for buffered spans). */
  estimateBytes(): number {
    let n = 256 + this.name.length * 2;
    const initial = this.initial;
    if (initial) for (const key in initial) n += 48 + key.length * 2 + valueBytes(initial[key]);
    const later = this.later;
    if (later) for (let i = 0; i < later.length; i += 2) n += 48 + (later[i] as string).length * 2 + valueBytes(later[i + 1]);
    if (this.events) for (const ev of this.events) n += 96 + ev.name.length * 2 + (ev.attributes ? 64 * Object.keys(ev.attributes).length : 0);
    if (this.links) n += this.links.length * 96;
    return n;
  }

  /** The exported form, with the sampled flag set: built only for spans of a kept trace. */
  toReadableSpan(extraAttributes?: Attributes): ReadableSpan {
    const spanContext: SpanContext = { ...this.context, traceFlags: this.context.traceFlags | TraceFlags.SAMPLED };
    const startTime = millisToHrTime(this.startMs);
    const endTime = millisToHrTime(this.endMs >= 0 ? this.endMs : this.startMs);
    const durationMs = this.durationMs;
    const duration: HrTime = [Math.floor(durationMs / 1000), Math.round((durationMs % 1000) * 1e6)];
    const events: TimedEvent[] = (this.events ?? []).map((ev) => ({
      name: ev.name,
      attributes: ev.attributes ? sanitizeAttributes(ev.attributes) : undefined,
      time: millisToHrTime(ev.timeMs),
      droppedAttributesCount: 0,
    }));
    const attributes = sanitizeAttributes(extraAttributes ? { ...this.attributes, ...extraAttributes } : this.attributes);
    return {
      name: this.name,
      kind: this.kind,
      spanContext: () => spanContext,
      parentSpanContext: this.parentSpanContext,
      startTime,
      endTime,
      status: this.status,
      attributes,
      links: this.links ?? [],
      events,
      duration,
      ended: true,
      resource: this.scope.resource,
      instrumentationScope: this.scope.instrumentationScope,
      droppedAttributesCount: 0,
      droppedEventsCount: this.droppedEvents,
      droppedLinksCount: this.droppedLinks,
    };
  }
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
