/**
 * The tracer service code gets when tail sampling is on. It draws the head decision itself
 * (same sampler, same trace-id ratio): a sampled span is the SDK's own, untouched; a span the
 * head drops becomes a `CandidateSpan` — no SDK work at all — so that the tail sampler can still
 * keep its trace when the trace's local root ends slow or failed.
 */
import {
  context as otelContext,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerOptions,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { isTracingSuppressed } from '@opentelemetry/core';
import { currentFields } from '../context/context.js';
import { newSpanId, newTraceId } from '../context/span-scope.js';
import { CandidateSpan, CandidateTrace } from './candidate-span.js';
import { HEAD_SAMPLED_KEY, type StellaHeadSampler } from './head-sampler.js';
import type { TailSamplingProcessor } from './tail-buffer.js';

export class TailTracer implements Tracer {
  private readonly scope: CandidateSpan['scope'];

  constructor(
    private readonly inner: Tracer,
    private readonly sampler: StellaHeadSampler,
    private readonly tail: TailSamplingProcessor,
    resource: Resource,
    name: string,
    version?: string,
    schemaUrl?: string,
  ) {
    this.scope = { resource, instrumentationScope: { name, version, schemaUrl } };
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = otelContext.active()): Span {
    // Sampled spans (incident mode, a sampled parent, a sampled new trace) and suppressed
    // tracing are the SDK's business; only a head-dropped span becomes a candidate, without
    // asking the SDK for anything.
    if (isTracingSuppressed(ctx) || this.sampler.incidentFor(ctx)) return this.inner.startSpan(name, options, ctx);
    const parentSpan = options.root ? undefined : trace.getSpan(ctx);
    const parent = parentSpan?.spanContext();
    let traceId: string;
    let localParent: CandidateSpan | undefined;
    if (parent !== undefined && trace.isSpanContextValid(parent)) {
      if ((parent.traceFlags & TraceFlags.SAMPLED) !== 0) return this.inner.startSpan(name, options, ctx);
      traceId = parent.traceId;
      if (parentSpan instanceof CandidateSpan) localParent = parentSpan;
    } else {
      traceId = newTraceId();
      if (this.sampler.sampleNewTrace(traceId)) return this.inner.startSpan(name, options, ctx.setValue(HEAD_SAMPLED_KEY, true));
    }
    const validParent = traceId === parent?.traceId ? parent : undefined;
    const tenant = localParent?.trace.tenant ?? currentFields(ctx).tenant_id;
    const candidate = new CandidateSpan(
      { traceId, spanId: newSpanId(), traceFlags: TraceFlags.NONE, traceState: validParent?.traceState },
      name,
      options.kind ?? SpanKind.INTERNAL,
      options.attributes,
      options.links,
      options.startTime,
      validParent,
      tenant,
      this.tail,
      this.scope,
    );
    candidate.trace = localParent ? localParent.trace : new CandidateTrace(candidate, tenant, this.tail.now());
    return candidate;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a2: F | SpanOptions, a3?: F | Context, a4?: F): ReturnType<F> {
    let options: SpanOptions = {};
    let ctx = otelContext.active();
    let fn: F;
    if (typeof a2 === 'function') fn = a2;
    else if (typeof a3 === 'function') {
      options = a2;
      fn = a3;
    } else {
      options = a2;
      ctx = a3 ?? ctx;
      fn = a4 as F;
    }
    const span = this.startSpan(name, options, ctx);
    return otelContext.with(trace.setSpan(ctx, span), () => fn(span) as ReturnType<F>);
  }
}

/** Hands out `TailTracer`s over an SDK tracer provider (which keeps flushing and shutting down). */
export class TailTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, TailTracer>();

  constructor(
    private readonly inner: TracerProvider,
    private readonly sampler: StellaHeadSampler,
    private readonly tail: TailSamplingProcessor,
    private readonly resource: Resource,
  ) {}

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    const key = version === undefined && options?.schemaUrl === undefined ? name : `${name}\u0000${version ?? ''}\u0000${options?.schemaUrl ?? ''}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      tracer = new TailTracer(this.inner.getTracer(name, version, options), this.sampler, this.tail, this.resource, name, version, options?.schemaUrl);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }
}
