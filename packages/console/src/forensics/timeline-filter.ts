/**
 * The timeline's filter (CON-2): what the form edits, what the page's URL keeps, what
 * `GET /timeline` is asked, and what a saved filter stores — and the mappings between them.
 * The filter is checked with the service's own rules before it is sent, naming the field at
 * fault; the service checks again and its refusals name their field (`query.kind`), which maps
 * back to the form's field here. Pure: no DOM, no clock of its own.
 */
import type { Query } from '../routing/routes.js';
import type { SavedQuery } from './timeline-types.js';

export interface TimelineFilter {
  /** One kind or prefix (`policy.*`), or up to MAX_KINDS of them separated by commas. */
  kind: string;
  resourceType: string;
  resourceId: string;
  project: string;
  actor: string;
  /** A component, feed, purl or other id the event's trace touched. */
  touches: string;
  traceId: string;
  /** How far back: the tenant's whole retention, the last `windowMinutes`, or `from`–`to`. */
  time: 'retention' | 'window' | 'range';
  windowMinutes: number;
  /** ISO date-times; either may be '' (open: the service's default). */
  from: string;
  to: string;
  /** Events per page. */
  limit: number;
}

export type FilterField = 'kind' | 'resourceType' | 'resourceId' | 'project' | 'actor' | 'touches' | 'traceId' | 'window' | 'from' | 'to' | 'limit';

export interface FilterProblem {
  field: FilterField;
  message: string;
}

export type CheckedFilter = { ok: true; params: Record<string, string> } | { ok: false; problems: FilterProblem[] };

/** The text fields: the form's name, the URL's and the API's key, the longest value the service takes. */
export const TEXT_FIELDS = [
  { field: 'kind', key: 'kind', max: 1100 },
  { field: 'resourceType', key: 'resource_type', max: 64 },
  { field: 'resourceId', key: 'resource_id', max: 512 },
  { field: 'project', key: 'project', max: 128 },
  { field: 'actor', key: 'actor', max: 256 },
  { field: 'touches', key: 'touches', max: 256 },
  { field: 'traceId', key: 'trace_id', max: 32 },
] as const satisfies readonly { field: FilterField; key: string; max: number }[];

type TextField = (typeof TEXT_FIELDS)[number]['field'];

/** How many kinds or prefixes one filter may name. */
export const MAX_KINDS = 8;
/** The service's rule for a kind: dotted lower-case segments, at most 8, optionally ending in `.*`. */
const KIND_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+){0,7}(\.\*)?$/;
const MAX_KIND_LENGTH = 128;
const TRACE_ID = /^[0-9a-fA-F]{32}$/;
// eslint-disable-next-line no-control-regex -- control characters are what the service refuses in these fields
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Look-back windows offered, in minutes. */
export const WINDOW_CHOICES = [15, 60, 360, 1440, 10_080, 43_200] as const;

/** Events per page: the default, the choices offered, and the most the service serves a page. */
export const PAGE_SIZE = 50;
export const PAGE_SIZES = [20, 50, 100, 200] as const;
export const MAX_PAGE_SIZE = 1000;

export const EMPTY_FILTER: TimelineFilter = { kind: '', resourceType: '', resourceId: '', project: '', actor: '', touches: '', traceId: '', time: 'retention', windowMinutes: 60, from: '', to: '', limit: PAGE_SIZE };

export function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

/** The kinds of a comma-separated list, trimmed, empty entries left out. */
export function splitKinds(kind: string): string[] {
  return kind
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

/** The filter a timeline URL describes (a malformed `window` is kept, and `checkFilter` names it). */
export function filterFromQuery(query: Query): TimelineFilter {
  const filter: TimelineFilter = { ...EMPTY_FILTER };
  for (const { field, key } of TEXT_FIELDS) filter[field] = query[key] ?? '';
  if (query['from'] || query['to']) {
    filter.time = 'range';
    filter.from = query['from'] ?? '';
    filter.to = query['to'] ?? '';
  } else if (query['window']) {
    filter.time = 'window';
    filter.windowMinutes = /^\d{1,9}$/.test(query['window']) ? Number(query['window']) : Number.NaN;
  }
  if (query['limit']) filter.limit = /^\d{1,9}$/.test(query['limit']) ? Number(query['limit']) : Number.NaN;
  return filter;
}

/** The timeline URL's query of a filter; `label` names the canned or saved filter it came from. */
export function queryFromFilter(filter: TimelineFilter, label?: string): Query {
  const query: Query = {};
  for (const { field, key } of TEXT_FIELDS) {
    const value = field === 'kind' ? splitKinds(filter.kind).join(',') : filter[field].trim();
    if (value !== '') query[key] = value;
  }
  if (filter.time === 'window' && Number.isFinite(filter.windowMinutes)) query['window'] = String(filter.windowMinutes);
  if (filter.time === 'range') {
    if (filter.from) query['from'] = filter.from;
    if (filter.to) query['to'] = filter.to;
  }
  if (filter.limit !== PAGE_SIZE && Number.isFinite(filter.limit)) query['limit'] = String(filter.limit);
  if (label) query['filter'] = label;
  return query;
}

/** Whether two filters select the same events (how many a page shows aside). */
export function sameFilter(a: TimelineFilter, b: TimelineFilter): boolean {
  const qa = queryFromFilter({ ...a, limit: PAGE_SIZE });
  const qb = queryFromFilter({ ...b, limit: PAGE_SIZE });
  const keys = new Set([...Object.keys(qa), ...Object.keys(qb)]);
  for (const key of keys) if (qa[key] !== qb[key]) return false;
  return true;
}

function checkKinds(kind: string): string | undefined {
  const kinds = splitKinds(kind);
  if (kinds.length > MAX_KINDS) return `At most ${MAX_KINDS} kinds or prefixes; this names ${kinds.length}.`;
  const bad = kinds.find((k) => k.length > MAX_KIND_LENGTH + 2 || !KIND_PATTERN.test(k));
  if (bad !== undefined) return `"${bad}" is neither a kind (lower-case and dotted: job.failed) nor a prefix (policy.*).`;
  return undefined;
}

function checkTime(value: string, field: 'from' | 'to'): FilterProblem | undefined {
  if (value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return { field, message: 'Not a date and time.' };
  const year = new Date(ms).getUTCFullYear();
  if (year < 1970 || year > 9999) return { field, message: 'The timeline holds the years 1970 to 9999.' };
  return undefined;
}

/** The filter as `GET /timeline` parameters (a window ends at `now`), or what is wrong with it. */
export function checkFilter(filter: TimelineFilter, now: number): CheckedFilter {
  const problems: FilterProblem[] = [];
  for (const { field, max } of TEXT_FIELDS) {
    const value = filter[field].trim();
    if (value === '') continue;
    if (CONTROL.test(value)) problems.push({ field, message: 'No control characters (line breaks, tabs).' });
    else if (field === 'kind') {
      const problem = checkKinds(value);
      if (problem) problems.push({ field, message: problem });
    } else if (field === 'traceId') {
      if (!TRACE_ID.test(value)) problems.push({ field, message: 'A trace id is 32 hexadecimal characters.' });
    } else if (value.length > max) problems.push({ field, message: `At most ${max} characters.` });
  }
  if (filter.time === 'window' && !(Number.isInteger(filter.windowMinutes) && filter.windowMinutes > 0)) {
    problems.push({ field: 'window', message: 'A window is a whole number of minutes, at least 1.' });
  }
  if (filter.time === 'range') {
    const from = checkTime(filter.from, 'from');
    const to = checkTime(filter.to, 'to');
    if (from) problems.push(from);
    if (to) problems.push(to);
    if (!from && !to && filter.from && filter.to && Date.parse(filter.from) > Date.parse(filter.to)) {
      problems.push({ field: 'from', message: 'From must not be later than to.' });
    }
  }
  if (!(Number.isInteger(filter.limit) && filter.limit >= 1 && filter.limit <= MAX_PAGE_SIZE)) {
    problems.push({ field: 'limit', message: `From 1 to ${MAX_PAGE_SIZE} events a page.` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const params: Record<string, string> = {};
  for (const { field, key } of TEXT_FIELDS) {
    const value = field === 'kind' ? splitKinds(filter.kind).join(',') : field === 'traceId' ? filter.traceId.trim().toLowerCase() : filter[field].trim();
    if (value !== '') params[key] = value;
  }
  if (filter.time === 'window') {
    params['from'] = new Date(now - filter.windowMinutes * 60_000).toISOString();
    params['to'] = new Date(now).toISOString();
  } else if (filter.time === 'range') {
    if (filter.from) params['from'] = new Date(filter.from).toISOString();
    if (filter.to) params['to'] = new Date(filter.to).toISOString();
  }
  params['limit'] = String(filter.limit);
  return { ok: true, params };
}

/**
 * The form field a service refusal names (`field: "query.kind"`): the window stands for
 * `from`/`to` when the filter is a window, since those are computed from it.
 */
export function fieldOfServiceError(apiField: string | undefined, filter: TimelineFilter): FilterField | undefined {
  if (!apiField?.startsWith('query.')) return undefined;
  const key = apiField.slice('query.'.length);
  const text = TEXT_FIELDS.find((f) => f.key === key);
  if (text) return text.field;
  if (key === 'from' || key === 'to') return filter.time === 'window' ? 'window' : key;
  if (key === 'window') return 'window';
  if (key === 'limit') return 'limit';
  return undefined;
}

/** What a saved filter keeps of a filter: every text field, and the window; an absolute range is not kept. */
export function savedQueryOf(filter: TimelineFilter): SavedQuery {
  const query = queryFromFilter(filter);
  const saved: SavedQuery = {};
  for (const { key } of TEXT_FIELDS) if (query[key] !== undefined) saved[key] = query[key];
  if (filter.time === 'window' && Number.isInteger(filter.windowMinutes) && filter.windowMinutes > 0) saved.window = String(filter.windowMinutes);
  return saved;
}

/** The filter a saved filter stands for. */
export function filterOfSaved(saved: SavedQuery): TimelineFilter {
  const query: Query = {};
  for (const { key } of TEXT_FIELDS) if (saved[key]) query[key] = saved[key];
  if (saved.window) query['window'] = saved.window;
  return filterFromQuery(query);
}

/** A saved filter's query in one line (`kind=job.failed · touches=partner-osv · last 1 h`). */
export function describeSaved(saved: SavedQuery): string {
  const parts: string[] = [];
  for (const { key } of TEXT_FIELDS) if (saved[key]) parts.push(`${key}=${saved[key]}`);
  if (saved.window) parts.push(/^\d+$/.test(saved.window) ? `last ${formatMinutes(Number(saved.window))}` : `window=${saved.window}`);
  return parts.length > 0 ? parts.join(' · ') : 'every event';
}

export const MAX_SAVED_FILTERS = 100;
const FILTER_NAME = /^[A-Za-z0-9 ._-]{1,64}$/;

/** Why a name cannot name a saved filter, or undefined when it can (1–64 of A–Z a–z 0–9 space . _ -, no space first or last). */
export function checkFilterName(name: string): string | undefined {
  if (name.length === 0) return 'Give the filter a name.';
  if (name.length > 64) return 'At most 64 characters.';
  if (!FILTER_NAME.test(name)) return 'Letters, digits, spaces, dots, underscores and hyphens only.';
  if (name.startsWith(' ') || name.endsWith(' ')) return 'No space at the start or the end.';
  return undefined;
}

/** The `filter` URL value of a saved filter: its name after `saved:` (a name holds no colon). */
export const savedLabel = (name: string): string => `saved:${name}`;

export type CannedId = 'policy-changes' | 'job-failures' | 'trace-decisions';

/** A one-click filter; some take one value the user types (a component, a trace id). */
export interface CannedFilter {
  id: CannedId;
  title: string;
  /** What it matches, as the page says it. */
  explanation: string;
  input?: { label: string; placeholder: string; field: Extract<TextField, 'touches' | 'traceId'> };
  build(value: string): TimelineFilter;
}

/** Policy-related kinds and audited setting changes. */
export const POLICY_CHANGE_KINDS = 'policy.*,audit.*';
export const JOB_FAILURE_KIND = 'job.failed';
/** Kinds that record a decision: policy evaluations, and authorisation or other decisions a producer records. */
export const DECISION_KINDS = 'policy.*,authz.*,decision.*';

export const CANNED_FILTERS: readonly CannedFilter[] = [
  {
    id: 'policy-changes',
    title: 'All policy changes',
    explanation:
      'Every policy.* event — policy evaluations (policy.evaluated, with the policy version, its digest and the verdict) and any policy change a service records — and every audit.* event: audited changes of settings and privileged actions (retention of the timeline, telemetry and evidence; incident mode on, off, extended, expired or refused; deep-debug grants; evidence exports, deletions, refused deletions and key rotations; quarantine replays, reindexing and forensic capture exports).',
    build: () => ({ ...EMPTY_FILTER, kind: POLICY_CHANGE_KINDS }),
  },
  {
    id: 'job-failures',
    title: 'Job failures that touched component',
    explanation:
      'job.failed events whose trace touched the value: the failed job itself, or another event of the same trace (the advisory a feed refused, the SBOM a job computed), has it as its resource id or anywhere in the text of its details (case-sensitive). The value is an advisory feed (partner-osv), a purl (pkg:npm/lodash@4.17.20), an SBOM or another id.',
    input: { label: 'Component, feed or purl', placeholder: 'partner-osv', field: 'touches' },
    build: (value) => ({ ...EMPTY_FILTER, kind: JOB_FAILURE_KIND, touches: value.trim() }),
  },
  {
    id: 'trace-decisions',
    title: 'Decisions for this trace',
    explanation:
      "The trace's events that record a decision: policy.* (policy.evaluated: the verdict and how many findings were denied, warned or allowed, with the rule ids), authz.* and decision.*. Authorisation decisions are decision log lines and span attributes rather than timeline events: the trace view shows them with the trace's spans.",
    input: { label: 'Trace id', placeholder: '32 hexadecimal characters', field: 'traceId' },
    build: (value) => ({ ...EMPTY_FILTER, kind: DECISION_KINDS, traceId: value.trim().toLowerCase() }),
  },
];

export function cannedFilter(id: string | undefined): CannedFilter | undefined {
  return CANNED_FILTERS.find((c) => c.id === id);
}

/** The problem with a canned filter's typed value (none needed, or a trace id of 32 hex). */
export function checkCannedValue(canned: CannedFilter, value: string): string | undefined {
  if (!canned.input) return undefined;
  const v = value.trim();
  if (v === '') return `Type a ${canned.input.label.toLowerCase()}.`;
  if (canned.input.field === 'traceId' && !TRACE_ID.test(v)) return 'A trace id is 32 hexadecimal characters.';
  if (CONTROL.test(v)) return 'No control characters (line breaks, tabs).';
  if (v.length > 256) return 'At most 256 characters.';
  return undefined;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** An ISO time as the value of a `datetime-local` input (local time, to the second); '' when it is no time. */
export function localInputOf(iso: string): string {
  const ms = Date.parse(iso);
  if (iso === '' || Number.isNaN(ms)) return '';
  const d = new Date(ms);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A `datetime-local` input's value (local time) as an ISO time; '' when it is empty or no time. */
export function isoOfLocalInput(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value)) return '';
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
}
