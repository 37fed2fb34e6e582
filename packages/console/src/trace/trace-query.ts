/**
 * Trace search with guardrails (CON-1, OBS trace search): the form, its URL and the
 * `GET /obs/traces` parameters it becomes. The Console checks what it can against the bounds the
 * service states in every answer (`limits`: the widest window, the most traces) and the lengths
 * its schema allows, and names the field out of bounds; the rest — the attribute's `key=value`
 * form above all — is the service's rule, and its 400 is shown at the field it names.
 */
import type { Query } from '../routing/routes.js';

export type TraceStatus = '' | 'error' | 'ok';

/** The search form; numbers the user types stay text until they are checked. */
export interface TraceQuery {
  service: string;
  route: string;
  status: TraceStatus;
  /** Shortest trace duration, whole milliseconds, or ''. */
  minMs: string;
  /** `key=value`, or ''. */
  attr: string;
  windowMinutes: number;
  limit: number;
}

export type TraceField = keyof TraceQuery;

export interface TraceLimits {
  maxWindowHours: number;
  maxResults: number;
}

/** The service's defaults (STELLA_OBS_MAX_WINDOW_HOURS, the 200-trace cap), used until an answer states the real ones. */
export const DEFAULT_TRACE_LIMITS: TraceLimits = { maxWindowHours: 24, maxResults: 200 };
export const DEFAULT_TRACE_WINDOW = 60;
export const DEFAULT_TRACE_ROWS = 20;

/** The lengths `/obs/traces` accepts (its schema). */
export const MAX_LENGTH: Readonly<Record<'service' | 'route' | 'attr', number>> = { service: 256, route: 512, attr: 600 };
const INT32_MAX = 2_147_483_647;
// eslint-disable-next-line no-control-regex -- control characters are what the service refuses in these fields
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface TraceProblem {
  field: TraceField;
  message: string;
}

export type CheckedTraceQuery = { ok: true; params: Record<string, string> } | { ok: false; problems: TraceProblem[] };

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

/** The form a page URL describes; missing keys take their defaults. */
export function traceQueryOf(query: Query, limits: TraceLimits = DEFAULT_TRACE_LIMITS): TraceQuery {
  const status = query['status'];
  return {
    service: query['service'] ?? '',
    route: query['route'] ?? '',
    status: status === 'error' || status === 'ok' ? status : '',
    minMs: query['min_ms'] ?? '',
    attr: query['attr'] ?? '',
    windowMinutes: positiveInt(query['window']) ?? DEFAULT_TRACE_WINDOW,
    limit: positiveInt(query['limit']) ?? Math.min(DEFAULT_TRACE_ROWS, limits.maxResults),
  };
}

/** The page URL's query of a form (empty fields left out). */
export function urlQueryOf(form: TraceQuery): Query {
  const query: Query = {};
  const set = (key: string, value: string): void => {
    if (value !== '') query[key] = value;
  };
  set('service', form.service.trim());
  set('route', form.route.trim());
  set('status', form.status);
  set('min_ms', form.minMs.trim());
  set('attr', form.attr);
  set('window', String(form.windowMinutes));
  set('limit', String(form.limit));
  return query;
}

export function formatWindow(minutes: number): string {
  return minutes < 60 ? `${minutes} min` : minutes % 60 === 0 ? `${minutes / 60} h` : `${(minutes / 60).toFixed(1)} h`;
}

/** The form as `/obs/traces` parameters — a window of `windowMinutes` back from the service's own clock — or what is wrong with it. */
export function checkTraceQuery(form: TraceQuery, limits: TraceLimits): CheckedTraceQuery {
  const problems: TraceProblem[] = [];
  for (const field of ['service', 'route', 'attr'] as const) {
    const value = field === 'attr' ? form.attr : form[field].trim();
    if (value.length > MAX_LENGTH[field]) problems.push({ field, message: `At most ${MAX_LENGTH[field]} characters.` });
    else if (CONTROL.test(value)) problems.push({ field, message: 'No control characters (line breaks, tabs).' });
  }
  if (form.status !== '' && form.status !== 'error' && form.status !== 'ok') problems.push({ field: 'status', message: 'Any, error or ok.' });
  const minMs = form.minMs.trim();
  if (minMs !== '' && (!/^\d+$/.test(minMs) || Number(minMs) < 1 || Number(minMs) > INT32_MAX)) {
    problems.push({ field: 'minMs', message: 'Whole milliseconds, 1 or more (leave empty for any duration).' });
  }
  if (!Number.isInteger(form.windowMinutes) || form.windowMinutes < 1) problems.push({ field: 'windowMinutes', message: 'Choose a window.' });
  else if (form.windowMinutes > limits.maxWindowHours * 60) {
    problems.push({ field: 'windowMinutes', message: `The service searches at most ${formatWindow(limits.maxWindowHours * 60)} at a time; choose a shorter window.` });
  }
  if (!Number.isInteger(form.limit) || form.limit < 1 || form.limit > limits.maxResults) {
    problems.push({ field: 'limit', message: `From 1 to ${limits.maxResults} traces; narrow the search to see fewer.` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const params: Record<string, string> = { since: `${form.windowMinutes}m`, limit: String(form.limit) };
  if (form.service.trim() !== '') params['service'] = form.service.trim();
  if (form.route.trim() !== '') params['route'] = form.route.trim();
  if (form.status !== '') params['status'] = form.status;
  if (minMs !== '') params['min_duration_ms'] = minMs;
  if (form.attr !== '') params['attribute'] = form.attr;
  return { ok: true, params };
}

/** Which form field a `/obs/traces` refusal names (`field: "query.attribute"` → `attr`). */
const FIELD_OF_PARAM: Readonly<Record<string, TraceField>> = {
  service: 'service',
  route: 'route',
  status: 'status',
  min_duration_ms: 'minMs',
  attribute: 'attr',
  since: 'windowMinutes',
  from: 'windowMinutes',
  to: 'windowMinutes',
  limit: 'limit',
};

/** The service's 400 as a problem at the field it names, or undefined when it names none of the form's. */
export function serviceProblem(error: { status: number; message: string; answer: { field?: string | undefined } }): TraceProblem | undefined {
  if (error.status !== 400 || !error.answer.field) return undefined;
  const m = /^query\.([a-z_]+)/.exec(error.answer.field);
  const field = m ? FIELD_OF_PARAM[m[1]!] : undefined;
  return field ? { field, message: error.message } : undefined;
}
