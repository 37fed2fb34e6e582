/**
 * "Why is this red?" (CON-3): from what turned red — a service's tile or SLO, a failing route, a
 * trace, a failed job or denied decision on the timeline — to the one trace and span behind it,
 * with that span's log lines and the decisions of the trace that caused it.
 *
 * - `service` (+ `route`): the newest trace through it that ended in error (`/obs/traces`,
 *   `status=error`: a request, job or root span failed); else the newest of its traces with an
 *   error span anywhere (a failure the caller handled); else the newest ERROR log line of the
 *   service that carries a trace id, else the newest WARN line (a refusal).
 * - `trace_id` (+ `span_id`): that trace, and that span.
 * - `event_id`: the timeline event (`GET /timeline/:id`) and its trace.
 *
 * In the trace, the span is the one named, else the first error of the service (the error span
 * that ended first: where the failure started), else the span of the log line, else the trace's
 * first error, else the span that recorded a denial, else the root — said plainly, as nothing
 * red. Every step taken is kept, so the page can say how it got there. The service is reached
 * through `get` only: the module is tested with a fake.
 */
import { withQuery } from '../api/api-client.js';
import type { LogRecord, LogsAnswer, TraceAnswer, TraceSpan } from '../api/api-types.js';
import { DEFAULT_LIMITS, formatWindow, logsAroundTrace } from '../logs/log-query.js';
import type { Query } from '../routing/routes.js';
import { causeOrder, decisionsOf, isDenial, type Decision } from '../trace/decisions.js';
import type { TimelineEvent, TimelineEventAnswer, TracesAnswer } from '../trace/trace-types.js';

export type WhySource =
  | { kind: 'service'; service: string; route?: string | undefined; windowMinutes: number }
  | { kind: 'trace'; traceId: string; spanId?: string | undefined }
  | { kind: 'event'; eventId: string };

export const DEFAULT_WHY_WINDOW = 60;

/** Reads one API path; a refusal throws an error with the HTTP `status`. */
export type WhyGet = <T>(path: string) => Promise<T>;

export interface WhyFound {
  found: true;
  source: WhySource;
  /** How the span was found, step by step. */
  steps: string[];
  event: TimelineEvent | undefined;
  trace: TraceAnswer;
  span: TraceSpan;
  /** Why this span of the trace. */
  spanReason: string;
  /** The span ended in error or recorded a denial. */
  red: boolean;
  /** What the span's recorded exception says (`exception` event: type and message), if it has one. */
  exception: string | undefined;
  /** The span, then the spans that called it, up to the root. */
  pathIds: string[];
  /** The span's log lines and those of the spans that called it, oldest first; else the trace's warnings and errors. */
  logs: LogRecord[];
  logsScope: 'path' | 'trace-warnings' | 'none';
  /** More lines carry the trace id than were read. */
  logsTruncated: boolean;
  /** The trace's decisions, the likeliest cause first (denials, on the span's path, oldest). */
  decisions: Decision[];
}

export interface WhyNotFound {
  found: false;
  source: WhySource;
  steps: string[];
  event: TimelineEvent | undefined;
  message: string;
}

export type WhyResolution = WhyFound | WhyNotFound;

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const EVENT_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The source a page URL names, or what is wrong with it; `undefined` source and problem: the URL names nothing. */
export function whySourceOf(query: Query): { source?: WhySource; problem?: string } {
  const eventId = query['event_id'];
  if (eventId !== undefined) return EVENT_ID.test(eventId) ? { source: { kind: 'event', eventId: eventId.toLowerCase() } } : { problem: 'event_id is not a timeline event id (a UUID).' };
  const traceId = query['trace_id']?.toLowerCase();
  if (traceId !== undefined) {
    if (!TRACE_ID.test(traceId)) return { problem: 'trace_id is not a trace id (32 hexadecimal characters).' };
    const spanId = query['span_id']?.toLowerCase();
    if (spanId !== undefined && !SPAN_ID.test(spanId)) return { problem: 'span_id is not a span id (16 hexadecimal characters).' };
    return { source: { kind: 'trace', traceId, spanId } };
  }
  const service = query['service']?.trim();
  if (service) {
    const window = query['window'] !== undefined && /^\d{1,6}$/.test(query['window']) && Number(query['window']) > 0 ? Number(query['window']) : DEFAULT_WHY_WINDOW;
    return { source: { kind: 'service', service, route: query['route']?.trim() || undefined, windowMinutes: window } };
  }
  return {};
}

const statusOf = (error: unknown): number | undefined => (typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : undefined);

function nanos(value: string): bigint {
  try {
    return BigInt(value);
  } catch {
    return 0n;
  }
}

/** The error span that ended first (where a failure started; a parent failing because of its child ends after it), the deeper one on a tie. */
export function firstError(spans: readonly TraceSpan[]): TraceSpan | undefined {
  let first: TraceSpan | undefined;
  for (const s of spans) {
    if (s.status.code !== 'ERROR') continue;
    if (!first) first = s;
    else {
      const d = nanos(s.end_time_unix_nano) - nanos(first.end_time_unix_nano);
      if (d < 0n || (d === 0n && s.depth > first.depth)) first = s;
    }
  }
  return first;
}

/** The span and the spans that called it, up to the root. */
export function pathToRoot(spans: readonly TraceSpan[], spanId: string): string[] {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const path: string[] = [];
  let at = byId.get(spanId);
  while (at && !path.includes(at.span_id)) {
    path.push(at.span_id);
    at = at.parent_span_id ? byId.get(at.parent_span_id) : undefined;
  }
  return path;
}

export interface SpanHint {
  /** The span a link named. */
  spanId?: string | undefined;
  /** The service that is red: its first error span is preferred. */
  service?: string | undefined;
  /** The span a log line of the red service was written under. */
  logSpanId?: string | undefined;
}

/** Which span of the trace is behind the red, and why that one. */
export function pickSpan(trace: TraceAnswer, decisions: readonly Decision[], hint: SpanHint): { span: TraceSpan; reason: string; notes: string[] } | undefined {
  const byId = new Map(trace.spans.map((s) => [s.span_id, s]));
  const notes: string[] = [];
  if (hint.spanId) {
    const named = byId.get(hint.spanId);
    if (named) return { span: named, reason: 'The span the link named.', notes };
    notes.push(`Span ${hint.spanId} is not among the trace's stored spans.`);
  }
  if (hint.service) {
    const own = firstError(trace.spans.filter((s) => s.service === hint.service));
    if (own) return { span: own, reason: `The first error of ${hint.service} in this trace: its error span that ended first, where the failure started.`, notes };
  }
  if (hint.logSpanId) {
    const logged = byId.get(hint.logSpanId);
    if (logged) return { span: logged, reason: 'The span the log line was written under.', notes };
  }
  const first = firstError(trace.spans);
  if (first) return { span: first, reason: 'The first error of the trace: the error span that ended first, where the failure started.', notes };
  const denial = causeOrder(decisions).find((d) => isDenial(d) && d.spanId !== null && byId.has(d.spanId));
  if (denial) return { span: byId.get(denial.spanId!)!, reason: `No span ended in error; this span recorded a ${denial.kind} denial.`, notes };
  const root = trace.spans.find((s) => s.parent_span_id === null) ?? trace.spans[0];
  return root ? { span: root, reason: 'No span of this trace ended in error and no decision in it denied: this is its root span.', notes } : undefined;
}

/** The span's recorded exception (OpenTelemetry's `exception` event) as `type: message`. */
export function exceptionOf(span: TraceSpan): string | undefined {
  const event = span.events.find((e) => e.name === 'exception');
  if (!event) return undefined;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const type = text(event.attributes['exception.type']);
  const message = text(event.attributes['exception.message']);
  return message ? (type ? `${type}: ${message}` : message) : type;
}

function windowText(minutes: number): string {
  return `the last ${formatWindow(minutes)}`;
}

async function findTraceOfService(source: Extract<WhySource, { kind: 'service' }>, get: WhyGet, steps: string[]): Promise<{ traceId: string; logSpanId?: string } | undefined> {
  const { service, route, windowMinutes } = source;
  const since = `${windowMinutes}m`;
  const what = route ? `${service} ${route}` : service;
  const errored = await get<TracesAnswer>(withQuery('/obs/traces', { service, route, status: 'error', since, limit: 20 }));
  const newest = errored.traces[0];
  if (newest) {
    steps.push(`Trace search (status error): the newest trace through ${what} that ended in error in ${windowText(windowMinutes)} is ${newest.trace_id}, "${newest.root_span_name}".`);
    return { traceId: newest.trace_id };
  }
  steps.push(`Trace search (status error): no trace through ${what} ended in error at a request, job or root span in ${windowText(windowMinutes)}.`);
  const recent = await get<TracesAnswer>(withQuery('/obs/traces', { service, route, since, limit: 50 }));
  const withError = recent.traces.find((t) => t.error_span_count > 0);
  if (withError) {
    steps.push(`Trace search: the newest trace through ${what} with an error span (${withError.error_span_count}) is ${withError.trace_id}, "${withError.root_span_name}".`);
    return { traceId: withError.trace_id };
  }
  steps.push(`Trace search: none of the ${recent.traces.length} newest traces through ${what} has an error span.`);
  const routeOf = (l: LogRecord): unknown => l.attributes['http.route'] ?? l.attributes['route'];
  for (const severity of ['ERROR', 'WARN'] as const) {
    const answer = await get<LogsAnswer>(withQuery('/obs/logs', { service, severity, since, limit: 100 }));
    const line = answer.logs.find((l) => l.trace_id && (!route || routeOf(l) === route));
    const words = severity === 'ERROR' ? 'error' : 'warning or error';
    if (line?.trace_id) {
      steps.push(`Log search: the newest ${words} line of ${what} with a trace id, "${line.body}", is in trace ${line.trace_id}.`);
      return { traceId: line.trace_id, logSpanId: line.span_id ?? undefined };
    }
    steps.push(`Log search: no ${words} line of ${what} in ${windowText(windowMinutes)} carries a trace id.`);
  }
  return undefined;
}

async function explainTrace(source: WhySource, event: TimelineEvent | undefined, traceId: string, hint: SpanHint, get: WhyGet, steps: string[]): Promise<WhyResolution> {
  let trace: TraceAnswer;
  try {
    trace = await get<TraceAnswer>(`/obs/trace/${encodeURIComponent(traceId)}`);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    steps.push(`Trace ${traceId} is not stored (not sampled, not yet received, or past its retention).`);
    return { found: false, source, steps, event, message: `The trace behind it, ${traceId}, is not in this tenant's telemetry: it was not sampled, has not arrived yet, or is past its retention.` };
  }
  const window = logsAroundTrace(trace.start_time, trace.duration_ms, DEFAULT_LIMITS);
  const answer = await get<LogsAnswer>(withQuery('/obs/logs', { trace_id: trace.trace_id, ...window }));
  const oldestFirst = [...answer.logs].reverse();
  const decisions = decisionsOf(trace.spans, oldestFirst);
  const picked = pickSpan(trace, decisions, hint);
  steps.push(...(picked?.notes ?? []));
  if (!picked) return { found: false, source, steps, event, message: `The trace ${traceId} has no spans stored.` };
  const { span, reason } = picked;
  steps.push(`In trace ${trace.trace_id}: span "${span.name}" of ${span.service}. ${reason}`);
  const pathIds = pathToRoot(trace.spans, span.span_id);
  const onPath = new Set(pathIds);
  let logs = oldestFirst.filter((l) => l.span_id !== null && onPath.has(l.span_id));
  let logsScope: WhyFound['logsScope'] = 'path';
  if (logs.length === 0) {
    logs = oldestFirst.filter((l) => l.severity_number >= 13);
    logsScope = logs.length > 0 ? 'trace-warnings' : 'none';
  }
  const red = span.status.code === 'ERROR' || decisions.some((d) => d.spanId === span.span_id && isDenial(d));
  return { found: true, source, steps, event, trace, span, spanReason: reason, red, exception: exceptionOf(span), pathIds, logs, logsScope, logsTruncated: answer.truncated, decisions: causeOrder(decisions, onPath) };
}

/** Resolves a source to the trace and span behind it. Refusals other than "not found" (a 403, a 400) are thrown, as the service explained them. */
export async function resolveWhy(source: WhySource, get: WhyGet): Promise<WhyResolution> {
  const steps: string[] = [];
  switch (source.kind) {
    case 'service': {
      const found = await findTraceOfService(source, get, steps);
      if (!found) {
        const what = source.route ? `${source.service} ${source.route}` : source.service;
        return {
          found: false,
          source,
          steps,
          event: undefined,
          message: `Nothing red found for ${what} in ${windowText(source.windowMinutes)}: no trace through it failed, and no error or warning log line of it carries a trace id.`,
        };
      }
      return explainTrace(source, undefined, found.traceId, { service: source.service, logSpanId: found.logSpanId }, get, steps);
    }
    case 'trace':
      return explainTrace(source, undefined, source.traceId, { spanId: source.spanId }, get, steps);
    case 'event': {
      let answer: TimelineEventAnswer;
      try {
        answer = await get<TimelineEventAnswer>(`/timeline/${encodeURIComponent(source.eventId)}`);
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        steps.push(`Timeline event ${source.eventId} was not found.`);
        return { found: false, source, steps, event: undefined, message: `No timeline event ${source.eventId} in this tenant's timeline (or it is past the timeline's retention).` };
      }
      const event = answer.event;
      const what = `${event.kind}${event.resource_type ? ` of ${event.resource_type} ${event.resource_id ?? ''}`.trimEnd() : ''}`;
      if (!event.trace_id) {
        steps.push(`Timeline event ${what} carries no trace id.`);
        return { found: false, source, steps, event, message: `The event ${what} carries no trace id, so there is no span to show: it was not recorded inside a traced request or job.` };
      }
      steps.push(`Timeline event ${what} at ${event.ts} was recorded in trace ${event.trace_id}.`);
      return explainTrace(source, event, event.trace_id, {}, get, steps);
    }
  }
}
