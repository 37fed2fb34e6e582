/**
 * Opening a span and making it active, with or without an OpenTelemetry SDK registered.
 *
 * With an SDK, the tracer creates a real span. Without one, the API's no-op tracer would
 * hand back the parent's span context unchanged, so a service would log and echo its
 * caller's span id as its own; we then mint a non-recording span with fresh ids instead,
 * which keeps log correlation and `traceparent` echoes correct in every configuration.
 */
import { randomFillSync } from 'node:crypto';
import {
  context as otelContext,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api';
import { contextWithParentSpanId } from './context.js';

export const TRACER_NAME = '@stellaops/telemetry-core';

export interface OpenSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Start a new trace even if `parent` carries one (the link mode of job restore). */
  root?: boolean;
  startTime?: number;
  /** Tracer to start the span with. Default: telemetry-core's tracer of the global provider. */
  tracer?: Tracer;
}

export interface SpanScope {
  span: Span;
  /** Context in which `span` is active; run the work inside it. */
  ctx: Context;
}

/** Random bytes for ids, drawn from a pool refilled in one call (ids are minted per request). */
const POOL = Buffer.allocUnsafe(4096);
let poolOffset = POOL.length;
function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > POOL.length) {
      randomFillSync(POOL);
      poolOffset = 0;
    }
    const start = poolOffset;
    poolOffset += bytes;
    let zero = true;
    for (let i = start; i < poolOffset; i++) {
      if (POOL[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (!zero) return POOL.toString('hex', start, poolOffset); // all-zero ids are invalid in W3C
  }
}

/** Random non-zero W3C ids (for spans no SDK records, and for callers that mint a traceparent). */
export function newTraceId(): string {
  return randomHex(16);
}
export function newSpanId(): string {
  return randomHex(8);
}

export function openSpan(name: string, options: OpenSpanOptions = {}, parent: Context = otelContext.active()): SpanScope {
  const parentSpanContext = options.root ? undefined : trace.getSpanContext(parent);
  const validParent = parentSpanContext && trace.isSpanContextValid(parentSpanContext) ? parentSpanContext : undefined;
  const base = options.root ? trace.deleteSpan(parent) : parent;
  const tracer = options.tracer ?? trace.getTracer(TRACER_NAME);
  let span = tracer.startSpan(
    name,
    { kind: options.kind, attributes: options.attributes, links: options.links, root: options.root, startTime: options.startTime },
    base,
  );
  const sc = span.spanContext();
  const minted = !trace.isSpanContextValid(sc) || (validParent !== undefined && sc.spanId === validParent.spanId);
  if (minted) {
    span = trace.wrapSpanContext({
      traceId: validParent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      // Without an SDK nothing is recorded; keep the caller's sampling decision for downstream.
      traceFlags: validParent?.traceFlags ?? TraceFlags.NONE,
      traceState: validParent?.traceState,
    });
  }
  const ctx = contextWithParentSpanId(trace.setSpan(base, span), validParent?.spanId);
  return { span, ctx };
}
