/**
 * W3C Trace Context and Baggage across process boundaries: HTTP headers, gRPC metadata and
 * job payloads. Parsing and formatting are OpenTelemetry's propagators, never hand-written.
 */
import {
  context as otelContext,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { CONTEXT_FIELDS, contextWithFields, currentFields, type TelemetryContext } from './context.js';
import { openSpan } from './span-scope.js';

const propagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** Header-like carriers: Node's IncomingHttpHeaders, a plain record, fetch `Headers`, gRPC metadata maps. */
export type HeaderCarrier = Record<string, string | string[] | undefined> | Headers;

const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => (carrier instanceof Headers ? [...carrier.keys()] : Object.keys(carrier)),
  get: (carrier, key) => {
    if (carrier instanceof Headers) return carrier.get(key) ?? undefined;
    const direct = carrier[key] ?? carrier[key.toLowerCase()];
    if (direct !== undefined) return direct;
    // Plain records may use any header case.
    const found = Object.keys(carrier).find((k) => k.toLowerCase() === key);
    return found === undefined ? undefined : carrier[found];
  },
};

const setter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => {
    if (carrier instanceof Headers) carrier.set(key, value);
    else carrier[key] = value;
  },
};

/**
 * Reads `traceparent`, `tracestate` and `baggage` from headers (or gRPC metadata) into an
 * OpenTelemetry context. Invalid headers are ignored, never thrown: a bad caller starts a new trace.
 */
export function extractTraceContext(headers: HeaderCarrier, base: Context = ROOT_CONTEXT): Context {
  return propagator.extract(base, headers, getter);
}

/** Writes the active trace context (and baggage) into `headers`; returns the same object. */
export function injectTraceHeaders<T extends HeaderCarrier>(headers: T, ctx: Context = otelContext.active()): T {
  propagator.inject(ctx, headers, setter);
  return headers;
}

/** The `traceparent` value for the active span, if there is one. */
export function currentTraceparent(ctx: Context = otelContext.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  return carrier['traceparent'];
}

/** What a producer puts into a job payload; plain JSON, safe to store in a queue. */
export interface SerializedJobContext extends TelemetryContext {
  traceparent?: string;
  tracestate?: string;
  baggage?: string;
}

/** Serializes the active trace context and context fields for a job payload. */
export function serializeJobContext(ctx: Context = otelContext.active()): SerializedJobContext {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  const out: SerializedJobContext = { ...currentFields(ctx) };
  if (carrier['traceparent']) out.traceparent = carrier['traceparent'];
  if (carrier['tracestate']) out.tracestate = carrier['tracestate'];
  if (carrier['baggage']) out.baggage = carrier['baggage'];
  return out;
}

export interface RestoreJobOptions {
  /**
   * `continue`: the job's span is a child in the producer's trace (same trace id).
   * `link`: the job starts a new trace whose root span links to the producer's span
   * (for fan-out, retries and long-delayed work). Default `continue`.
   */
  mode?: 'continue' | 'link';
  /** Name of the span opened for the job. Default `runner.execute`. */
  spanName?: string;
}

/**
 * Restores a job payload's context in a worker and runs `fn` inside a new span for the job.
 * Unknown or malformed fields in the payload are ignored.
 */
export function restoreJobContext<T>(payload: unknown, fn: () => T, options: RestoreJobOptions = {}): T {
  const record = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  const carrier: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate', 'baggage']) {
    if (typeof record[key] === 'string') carrier[key] = record[key] as string;
  }
  const fields: TelemetryContext = {};
  for (const key of CONTEXT_FIELDS) {
    if (typeof record[key] === 'string') fields[key] = record[key] as string;
  }
  const remote = propagator.extract(ROOT_CONTEXT, carrier, getter);
  const remoteSpan = trace.getSpanContext(remote);
  const name = options.spanName ?? 'runner.execute';
  const scope =
    options.mode === 'link'
      ? openSpan(
          name,
          { root: true, links: remoteSpan && trace.isSpanContextValid(remoteSpan) ? [{ context: remoteSpan }] : [] },
          remote,
        )
      : openSpan(name, {}, remote);
  const ctx = contextWithFields(fields, scope.ctx);
  return otelContext.with(ctx, () => {
    try {
      const result = fn();
      if (result instanceof Promise) {
        return result.finally(() => scope.span.end()) as T;
      }
      scope.span.end();
      return result;
    } catch (err) {
      scope.span.end();
      throw err;
    }
  });
}
