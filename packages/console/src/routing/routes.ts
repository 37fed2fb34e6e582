/**
 * The Console's pages and their URLs under /console (the service answers the page for each of
 * them). A URL holds what a page shows — a trace id, a query, a filter — and never the token.
 * Each page is one entry of PAGES: its path (with at most one `:param`) and the query keys it
 * keeps; parsing and building URLs both read that table.
 */

export const BASE = '/console';

/** The query of a page: the keys its PAGES entry names, each a non-empty string when present. */
export type Query = Partial<Record<string, string>>;

export interface LogSearch {
  q?: string;
  severity?: string;
  service?: string;
  trace_id?: string;
  /** Minutes back from now. */
  window?: number;
  limit?: number;
}

export type Route =
  | { page: 'hub' }
  /** Trace search: service, route, status (`error`|`ok`), min_ms, attr (`key=value`), window (minutes), limit. */
  | { page: 'traces'; query: Query }
  /** One trace; `span` selects a span (else the first error), `from` says how the user got here. */
  | { page: 'trace'; traceId: string; query: Query }
  /** Two traces side by side: `a`, `b` trace ids. */
  | { page: 'trace-compare'; query: Query }
  /** "Why is this red?": `service` (+ `route`, `window` minutes), or `trace_id` (+ `span_id`), or `event_id` → the span, logs and decision behind it. */
  | { page: 'why'; query: Query }
  | { page: 'logs'; search: LogSearch }
  /** Forensics Explorer's timeline: kind, resource_type, resource_id, project, actor, touches, trace_id, from, to, window, limit (events per page), filter (the canned or saved filter applied). */
  | { page: 'timeline'; query: Query }
  /** One timeline event with `context` (±N) events around it, among `scope` (`all`, `resource`, `trace`). */
  | { page: 'event'; eventId: string; query: Query }
  /** Evidence bundles: case_id, kind. */
  | { page: 'evidence'; query: Query }
  /** One bundle: manifest, files, verification, download. */
  | { page: 'bundle'; bundleId: string; query: Query }
  /** The Create Snapshot wizard: kind, resource_id, case_id prefilled. */
  | { page: 'snapshot'; query: Query }
  /** Two evaluations compared: `a`, `b` as `<tenant>/<bundle_id>`. */
  | { page: 'evaluation-compare'; query: Query }
  /** The attestation verifier: `id` of a stored attestation, or an uploaded envelope. */
  | { page: 'attestations'; query: Query }
  | { page: 'not_found'; path: string };

type QueryPage = Exclude<Route, { page: 'hub' } | { page: 'logs' } | { page: 'not_found' }>['page'];

/** Path patterns and query keys of the pages that keep a query. Order matters: the first match wins. */
const PAGES: readonly { page: QueryPage; path: string; keys: readonly string[] }[] = [
  { page: 'traces', path: '/traces', keys: ['service', 'route', 'status', 'min_ms', 'attr', 'window', 'limit'] },
  { page: 'trace-compare', path: '/traces/compare', keys: ['a', 'b'] },
  { page: 'trace', path: '/trace/:traceId', keys: ['span', 'from'] },
  { page: 'why', path: '/why', keys: ['service', 'route', 'window', 'trace_id', 'span_id', 'event_id'] },
  { page: 'timeline', path: '/timeline', keys: ['kind', 'resource_type', 'resource_id', 'project', 'actor', 'touches', 'trace_id', 'from', 'to', 'window', 'limit', 'filter'] },
  { page: 'event', path: '/timeline/:eventId', keys: ['context', 'scope'] },
  { page: 'evidence', path: '/evidence', keys: ['case_id', 'kind'] },
  { page: 'snapshot', path: '/evidence/new', keys: ['kind', 'resource_id', 'case_id'] },
  { page: 'evaluation-compare', path: '/evidence/compare', keys: ['a', 'b'] },
  { page: 'bundle', path: '/evidence/:bundleId', keys: [] },
  { page: 'attestations', path: '/attestations', keys: ['id'] },
];

const LOG_KEYS = ['q', 'severity', 'service', 'trace_id', 'window', 'limit'] as const;

function positiveInt(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

function pickQuery(params: URLSearchParams, keys: readonly string[]): Query {
  const query: Query = {};
  for (const key of keys) {
    const value = params.get(key);
    if (value) query[key] = value;
  }
  return query;
}

/** Matches `/evidence/:bundleId` against a path; the parameter's value, '' for a pattern without one, or undefined. */
function matchPath(pattern: string, path: string): { name?: string; value?: string } | undefined {
  const at = pattern.indexOf('/:');
  if (at < 0) return pattern === path ? {} : undefined;
  const prefix = pattern.slice(0, at + 1);
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  if (rest === '' || rest.includes('/')) return undefined;
  return { name: pattern.slice(at + 2), value: decodeURIComponent(rest) };
}

/** The page a location shows. */
export function parseRoute(pathname: string, search: string): Route {
  let path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path === '' || path === '/') return { page: 'hub' };
  const params = new URLSearchParams(search);
  if (path === '/logs') {
    const text = (name: string): string | undefined => params.get(name) || undefined;
    return {
      page: 'logs',
      search: { q: text('q'), severity: text('severity'), service: text('service'), trace_id: text('trace_id'), window: positiveInt(params.get('window')), limit: positiveInt(params.get('limit')) },
    };
  }
  for (const entry of PAGES) {
    let matched: { name?: string; value?: string } | undefined;
    try {
      matched = matchPath(entry.path, path);
    } catch {
      continue; // a malformed %-escape is no page
    }
    if (!matched) continue;
    const query = pickQuery(params, entry.keys);
    const route = matched.name ? { page: entry.page, [matched.name]: matched.value, query } : { page: entry.page, query };
    return route as Route;
  }
  return { page: 'not_found', path };
}

function queryString(values: Record<string, unknown>, keys: readonly string[]): string {
  const params = new URLSearchParams();
  for (const key of keys) {
    const value = values[key];
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The URL of a page. */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'hub':
      return `${BASE}/`;
    case 'logs':
      return `${BASE}/logs${queryString(route.search as Record<string, unknown>, LOG_KEYS)}`;
    case 'not_found':
      return `${BASE}${route.path}`;
    default: {
      const entry = PAGES.find((p) => p.page === route.page)!;
      const at = entry.path.indexOf('/:');
      const path = at < 0 ? entry.path : `${entry.path.slice(0, at + 1)}${encodeURIComponent(String((route as Record<string, unknown>)[entry.path.slice(at + 2)]))}`;
      return `${BASE}${path}${queryString(route.query, entry.keys)}`;
    }
  }
}
