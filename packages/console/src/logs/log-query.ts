/**
 * Log search with guardrails (CON-1): the Console checks a query against the bounds the service
 * states in every `/obs/logs` answer (`limits`: the widest window, the most rows) before it
 * sends it, and says which field is out of bounds and why; the service checks them again and
 * its own refusals are shown as they come. The tenant is never part of a query: it is the
 * signed-in tenant, sent as a header.
 */

/** Look-back windows offered, in minutes; those wider than the service allows are left out. */
export const WINDOW_CHOICES = [15, 60, 360, 1440, 4320] as const;

export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

export interface LogLimits {
  maxWindowHours: number;
  maxResults: number;
}

/** The service's defaults (STELLA_OBS_MAX_WINDOW_HOURS, STELLA_OBS_MAX_RESULTS), used until an answer states the real ones. */
export const DEFAULT_LIMITS: LogLimits = { maxWindowHours: 24, maxResults: 1000 };

export interface LogQuery {
  /** Text the body contains (case-insensitive). */
  q: string;
  /** Lowest severity, or '' for all. */
  severity: string;
  service: string;
  traceId: string;
  windowMinutes: number;
  limit: number;
}

export interface QueryProblem {
  field: keyof LogQuery;
  message: string;
}

export type CheckedQuery = { ok: true; params: Record<string, string> } | { ok: false; problems: QueryProblem[] };

// eslint-disable-next-line no-control-regex -- control characters are what the service refuses in these fields
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_TEXT = 200;

export function formatWindow(minutes: number): string {
  return minutes < 60 ? `${minutes} min` : minutes % 60 === 0 ? `${minutes / 60} h` : `${(minutes / 60).toFixed(1)} h`;
}

export function windowChoices(limits: LogLimits): number[] {
  return WINDOW_CHOICES.filter((m) => m <= limits.maxWindowHours * 60);
}

/** The query as `/obs/logs` parameters (window ending `now`), or what is wrong with it. */
export function checkLogQuery(query: LogQuery, limits: LogLimits, now: number): CheckedQuery {
  const problems: QueryProblem[] = [];
  for (const field of ['q', 'service'] as const) {
    const value = query[field];
    if (value.length > MAX_TEXT) problems.push({ field, message: `At most ${MAX_TEXT} characters.` });
    else if (CONTROL.test(value)) problems.push({ field, message: 'No control characters (line breaks, tabs).' });
  }
  if (query.severity !== '' && !(SEVERITIES as readonly string[]).includes(query.severity)) problems.push({ field: 'severity', message: `One of ${SEVERITIES.join(', ')}.` });
  if (query.traceId !== '' && !/^[0-9a-fA-F]{32}$/.test(query.traceId)) problems.push({ field: 'traceId', message: 'A trace id is 32 hexadecimal characters.' });
  if (!Number.isInteger(query.windowMinutes) || query.windowMinutes < 1) problems.push({ field: 'windowMinutes', message: 'Choose a window.' });
  else if (query.windowMinutes > limits.maxWindowHours * 60) {
    problems.push({ field: 'windowMinutes', message: `The service searches at most ${formatWindow(limits.maxWindowHours * 60)} at a time; choose a shorter window.` });
  }
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > limits.maxResults) {
    problems.push({ field: 'limit', message: `From 1 to ${limits.maxResults} rows; narrow the search to see fewer.` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const params: Record<string, string> = {
    from: new Date(now - query.windowMinutes * 60_000).toISOString(),
    to: new Date(now).toISOString(),
    limit: String(query.limit),
  };
  if (query.q !== '') params['q'] = query.q;
  if (query.severity !== '') params['severity'] = query.severity;
  if (query.service !== '') params['service'] = query.service;
  if (query.traceId !== '') params['trace_id'] = query.traceId.toLowerCase();
  return { ok: true, params };
}

/** The window to read a trace's logs in: a minute either side of the trace, within the service's widest window. */
export function logsAroundTrace(startIso: string, durationMs: number, limits: LogLimits): { from: string; to: string } {
  const from = Date.parse(startIso) - 60_000;
  const to = Math.min(Date.parse(startIso) + Math.max(durationMs, 0) + 60_000, from + limits.maxWindowHours * 3_600_000);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}
