/**
 * Request and job context on one AsyncLocalStorage: OpenTelemetry's context. Our fields
 * (tenant, actor, ids) live under a private key beside the active span, so a span opened by
 * any OpenTelemetry instrumentation and the fields set by our middleware travel together and
 * the logger reads both from one place.
 */
import { context as otelContext, createContextKey, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/** Fields a service attaches to the work it is doing; every one is optional. */
export interface TelemetryContext {
  tenant_id?: string;
  project_id?: string;
  actor?: string;
  request_id?: string;
  job_id?: string;
  run_id?: string;
  route?: string;
  method?: string;
  resource?: string;
  action?: string;
  source_id?: string;
  sbom_id?: string;
  policy_version?: string;
}

/** What `currentContext()` returns: the fields plus the active trace identifiers. */
export interface ActiveContext extends TelemetryContext {
  trace_id?: string;
  span_id?: string;
  parent_span_id?: string;
  /** W3C trace flags of the active span (bit 0 = sampled). */
  trace_flags?: number;
}

export const CONTEXT_FIELDS = [
  'tenant_id',
  'project_id',
  'actor',
  'request_id',
  'job_id',
  'run_id',
  'route',
  'method',
  'resource',
  'action',
  'source_id',
  'sbom_id',
  'policy_version',
] as const satisfies readonly (keyof TelemetryContext)[];

const FIELDS_KEY = createContextKey('stellaops.telemetry.fields');
const PARENT_SPAN_KEY = createContextKey('stellaops.telemetry.parent_span_id');

let managerInstalled = false;

/**
 * Makes sure a context manager backed by AsyncLocalStorage is registered. The OpenTelemetry
 * API's default manager is a no-op; without this, context would not survive `await`.
 * If the host already registered one (e.g. the SDK's), that one is kept.
 */
export function ensureContextManager(): void {
  if (managerInstalled) return;
  managerInstalled = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!otelContext.setGlobalContextManager(manager)) manager.disable();
}

ensureContextManager();

function fieldsOf(ctx: Context): Readonly<TelemetryContext> | undefined {
  return ctx.getValue(FIELDS_KEY) as Readonly<TelemetryContext> | undefined;
}

const FIELD_SET: ReadonlySet<string> = new Set(CONTEXT_FIELDS);

/** Returns an OpenTelemetry context carrying `fields` merged over those already in `base`. */
export function contextWithFields(fields: TelemetryContext, base: Context = otelContext.active()): Context {
  const merged: Record<string, string> = { ...fieldsOf(base) };
  // Only known fields, and never undefined or empty values (they would reach a log line as null/"undefined").
  for (const key in fields) {
    const value = fields[key as keyof TelemetryContext];
    if (value !== undefined && value !== null && value !== '' && FIELD_SET.has(key)) merged[key] = String(value);
  }
  // A private, mutable slot on the frozen object: the logger caches its serialized form here
  // (cheaper for the garbage collector than a WeakMap entry per request).
  Object.defineProperty(merged, RENDER_SLOT, { value: { owner: undefined, mask: -1, text: '' } satisfies RenderSlot });
  return base.setValue(FIELDS_KEY, Object.freeze(merged));
}

/** Cache slot carried by every fields object (see `renderSlotOf`). */
export interface RenderSlot {
  owner: unknown;
  mask: number;
  text: string;
}
const RENDER_SLOT = Symbol('stellaops.telemetry.render');

/** The render cache slot of a fields object returned by `currentFields`, if it has one. */
export function renderSlotOf(fields: Readonly<TelemetryContext>): RenderSlot | undefined {
  return (fields as { [RENDER_SLOT]?: RenderSlot })[RENDER_SLOT];
}

/** Records the parent span id for the span about to become active in `ctx` (for log lines). */
export function contextWithParentSpanId(ctx: Context, parentSpanId: string | undefined): Context {
  if (parentSpanId) return ctx.setValue(PARENT_SPAN_KEY, parentSpanId);
  return ctx.getValue(PARENT_SPAN_KEY) === undefined ? ctx : ctx.deleteValue(PARENT_SPAN_KEY);
}

/**
 * Runs `fn` with `fields` added to the current context. Nested calls merge: inner values win.
 * The context survives `await`, timers and event emitters started inside `fn`.
 */
export function withContext<T>(fields: TelemetryContext, fn: () => T): T {
  return otelContext.with(contextWithFields(fields), fn);
}

/** Runs `fn` inside an OpenTelemetry context (for example one returned by `extractTraceContext`). */
export function withOtelContext<T>(ctx: Context, fn: () => T): T {
  return otelContext.with(ctx, fn);
}

/** Parent span id recorded when the active span was opened through telemetry-core. */
export function currentParentSpanId(ctx: Context = otelContext.active()): string | undefined {
  return ctx.getValue(PARENT_SPAN_KEY) as string | undefined;
}

/** The context fields without trace ids (cheap; the object is frozen and shared). */
export function currentFields(ctx: Context = otelContext.active()): Readonly<TelemetryContext> {
  return fieldsOf(ctx) ?? EMPTY;
}
const EMPTY: Readonly<TelemetryContext> = Object.freeze({});

/** The active context: tenant, actor, ids and the active trace/span. */
export function currentContext(ctx: Context = otelContext.active()): ActiveContext {
  const out: ActiveContext = { ...currentFields(ctx) };
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext && trace.isSpanContextValid(spanContext)) {
    out.trace_id = spanContext.traceId;
    out.span_id = spanContext.spanId;
    out.trace_flags = spanContext.traceFlags;
    const parent = ctx.getValue(PARENT_SPAN_KEY) as string | undefined;
    if (parent) out.parent_span_id = parent;
  }
  return out;
}
