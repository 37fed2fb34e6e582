/**
 * The Console's pages and their URLs under /console (the service answers the page for each of
 * them). A URL holds what a page shows — a trace id, a log query — and never the token.
 */

export const BASE = '/console';

export interface LogSearch {
  q?: string;
  severity?: string;
  service?: string;
  trace_id?: string;
  /** Minutes back from now. */
  window?: number;
  limit?: number;
}

export type Route = { page: 'hub' } | { page: 'trace'; traceId: string } | { page: 'logs'; search: LogSearch } | { page: 'not_found'; path: string };

const TRACE_PATH = /^\/trace\/([^/]+)\/?$/;

function positiveInt(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

/** The page a location shows. */
export function parseRoute(pathname: string, search: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  if (path === '' || path === '/') return { page: 'hub' };
  const trace = TRACE_PATH.exec(path);
  if (trace) return { page: 'trace', traceId: decodeURIComponent(trace[1]!) };
  if (path === '/logs' || path === '/logs/') {
    const params = new URLSearchParams(search);
    const text = (name: string): string | undefined => params.get(name) || undefined;
    return {
      page: 'logs',
      search: { q: text('q'), severity: text('severity'), service: text('service'), trace_id: text('trace_id'), window: positiveInt(params.get('window')), limit: positiveInt(params.get('limit')) },
    };
  }
  return { page: 'not_found', path };
}

/** The URL of a page. */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'hub':
      return `${BASE}/`;
    case 'trace':
      return `${BASE}/trace/${encodeURIComponent(route.traceId)}`;
    case 'logs': {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(route.search)) if (value !== undefined && value !== '') params.set(key, String(value));
      const query = params.toString();
      return `${BASE}/logs${query ? `?${query}` : ''}`;
    }
    case 'not_found':
      return `${BASE}${route.path}`;
  }
}
