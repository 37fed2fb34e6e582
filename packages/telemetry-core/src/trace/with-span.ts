/**
 * Tracing helpers for service code (CORE-4). A span opened here is the active span of the
 * work it wraps, so log lines written inside carry its trace and span ids; context fields
 * given with it (tenant, job, run, ...) are added to the logging context as well and
 * mirrored onto the span as `stella.*` attributes. Attribute values are scrubbed on export
 * by the same engine as logs (see export/scrub-spans), never at the call site.
 */
import { context as otelContext, SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { contextWithFields, type TelemetryContext } from '../context/context.js';
import { openSpan } from '../context/span-scope.js';

export interface StartSpanOptions {
  kind?: SpanKind;
  links?: Link[];
  /** Start a new trace even if one is active. Default false. */
  root?: boolean;
  /** Context fields for the span's work (tenant_id, job_id, ...); also become `stella.<field>` attributes. */
  fields?: TelemetryContext;
  /** Parent context. Default: the active context. */
  parent?: Context;
}

export interface ActiveSpan {
  span: Span;
  /** Context with the span active and the fields applied; run the work in it. */
  ctx: Context;
  /** Runs `fn` inside the span's context. */
  run<T>(fn: () => T): T;
  /** Records `error` (if any) as the span's status, then ends the span. Idempotent. */
  end(error?: unknown): void;
}

const FIELD_ATTRS: Partial<Record<keyof TelemetryContext, string>> = {
  tenant_id: 'stella.tenant_id',
  project_id: 'stella.project_id',
  job_id: 'stella.job_id',
  run_id: 'stella.run_id',
  sbom_id: 'stella.sbom_id',
  source_id: 'stella.source_id',
  policy_version: 'stella.policy.version',
};

/** Opens a span without making it active globally; use `run` or `ctx` for the work. */
export function startSpan(name: string, attributes: Attributes = {}, options: StartSpanOptions = {}): ActiveSpan {
  let parent = options.parent ?? otelContext.active();
  let attrs = attributes;
  if (options.fields) {
    // Fields go in before the span starts, so the sampler and the tenant tagging see them.
    parent = contextWithFields(options.fields, parent);
    attrs = { ...attributes };
    for (const [field, attr] of Object.entries(FIELD_ATTRS)) {
      const v = options.fields[field as keyof TelemetryContext];
      if (v !== undefined && v !== '') attrs[attr as string] = v;
    }
  }
  const scope = openSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: attrs, links: options.links, root: options.root }, parent);
  let ended = false;
  return {
    span: scope.span,
    ctx: scope.ctx,
    run: (fn) => otelContext.with(scope.ctx, fn),
    end(error?: unknown) {
      if (ended) return;
      ended = true;
      if (error !== undefined) markError(scope.span, error);
      scope.span.end();
    },
  };
}

function markError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.name });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof error === 'string' ? 'error' : String(error) });
  }
}

/**
 * Runs `fn` inside a new span and ends it when `fn` returns or its promise settles. A throw
 * or rejection marks the span as an error (which also makes the tail buffer keep the trace)
 * and is re-thrown unchanged.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T, options: StartSpanOptions = {}): T {
  let span: Span;
  let ctx: Context;
  if (options.fields === undefined && options.links === undefined && options.parent === undefined && options.root !== true) {
    // The common case opens the span directly: a request path calls this several times, so it
    // allocates no handle or closures of its own.
    ({ span, ctx } = openSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes }));
  } else {
    ({ span, ctx } = startSpan(name, attributes, options));
  }
  let result: T;
  try {
    result = otelContext.with(ctx, fn, undefined, span);
  } catch (err) {
    markError(span, err);
    span.end();
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        markError(span, err);
        span.end();
        throw err;
      },
    ) as T;
  }
  span.end();
  return result;
}
