/**
 * Trace context on every outgoing `fetch` without a wrapper. Node's `fetch` is undici, which
 * publishes each request on `node:diagnostics_channel` (so does the `undici` package):
 * `undici:request:create` runs in the caller's async context, where we open an `http.client`
 * span and add `traceparent`/`tracestate`/`baggage` with `request.addHeader`;
 * `undici:request:headers` and `undici:request:error` end the span.
 *
 * Only requests made while a span is active are touched: background polling outside any trace
 * starts no traces. A request that already carries `traceparent` (`tracedFetch`, or a caller
 * who set it) is left exactly as it is. Propagation only adds headers: it never blocks, delays
 * or fails a request (the sealed-mode guard governs telemetry exporters, not application calls).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { context as otelContext, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { injectTraceHeaders } from './propagation.js';
import { openSpan } from './span-scope.js';

const CREATE = 'undici:request:create';
const HEADERS = 'undici:request:headers';
const ERROR = 'undici:request:error';

/** The fields of undici's request object we use; the shape is undici's, not ours. */
interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  /** Flat name/value list (undici 6+) or raw `name: value\r\n` lines (undici 5). */
  headers?: unknown;
  upgrade?: unknown;
  addHeader?: (name: string, value: string) => unknown;
}

export interface FetchPropagationOptions {
  /** Tracer for the `http.client` spans (a telemetry instance's own, see `createTelemetry`). Default: the global provider's. */
  tracer?: Tracer;
  /**
   * Which destinations get trace headers and a client span, e.g. to keep `traceparent` and
   * `baggage` off third-party hosts. Default: every destination.
   */
  propagateTo?: (url: URL) => boolean;
}

/** `STELLA_FETCH_PROPAGATION=0` (or `false`, `off`) keeps `initTelemetry` from installing fetch propagation. */
export function fetchPropagationFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['STELLA_FETCH_PROPAGATION']?.trim().toLowerCase();
  return !(v === '0' || v === 'false' || v === 'off');
}

function hasHeader(headers: unknown, name: string): boolean {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
    return false;
  }
  if (typeof headers === 'string') return headers.split('\r\n').some((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase() === name);
  return false;
}

function urlOf(request: UndiciRequest): URL | undefined {
  try {
    return new URL(request.path ?? '/', String(request.origin));
  } catch {
    return undefined;
  }
}

/** A subscriber that throws would surface as an uncaught exception: propagation never fails a request. */
function guarded(fn: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      fn(message);
    } catch {
      // Nothing to do: the request goes on without (complete) telemetry.
    }
  };
}

/**
 * Subscribes to undici's request channels so that every `fetch` made inside an active span
 * carries the W3C headers and gets an `http.client` span (`http.request.method`,
 * `server.address`, `server.port`, `url.path`, `http.response.status_code`; status ERROR on a
 * 5xx or a failed request). `initTelemetry` installs one for the process and removes it on
 * shutdown. Returns the function that removes this installation.
 */
export function installFetchPropagation(options: FetchPropagationOptions = {}): () => void {
  // Weak: a request that never reports headers or an error (an upgrade, say) is not kept alive.
  const spans = new WeakMap<object, Span>();

  const onCreate = guarded((message) => {
    const request = (message as { request?: UndiciRequest }).request;
    if (!request || typeof request.addHeader !== 'function') return;
    const active = otelContext.active();
    if (isTracingSuppressed(active)) return;
    const current = trace.getSpanContext(active);
    if (!current || !trace.isSpanContextValid(current)) return;
    if (hasHeader(request.headers, 'traceparent')) return;
    const url = urlOf(request);
    if (options.propagateTo && (!url || !options.propagateTo(url))) return;

    const method = (request.method ?? 'GET').toUpperCase();
    const attributes: Attributes = { 'http.request.method': method };
    if (url) {
      attributes['server.address'] = url.hostname;
      attributes['server.port'] = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      attributes['url.path'] = url.pathname;
    }
    // An upgraded connection reports neither headers nor an end here: propagate without a span.
    const scope = request.upgrade ? undefined : openSpan('http.client', { kind: SpanKind.CLIENT, attributes, tracer: options.tracer }, active);
    if (scope) spans.set(request, scope.span);
    const headers = injectTraceHeaders({} as Record<string, string>, scope?.ctx ?? active);
    for (const [name, value] of Object.entries(headers)) {
      if (!hasHeader(request.headers, name)) request.addHeader(name, value);
    }
  });

  const onHeaders = guarded((message) => {
    const { request, response } = message as { request?: object; response?: { statusCode?: number } };
    const span = request && spans.get(request);
    if (!span) return;
    spans.delete(request);
    const statusCode = response?.statusCode;
    if (typeof statusCode === 'number') {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${statusCode}` });
    }
    span.end();
  });

  const onError = guarded((message) => {
    const { request, error } = message as { request?: object; error?: unknown };
    const span = request && spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'fetch failed' });
    span.end();
  });

  subscribe(CREATE, onCreate);
  subscribe(HEADERS, onHeaders);
  subscribe(ERROR, onError);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    unsubscribe(CREATE, onCreate);
    unsubscribe(HEADERS, onHeaders);
    unsubscribe(ERROR, onError);
  };
}
