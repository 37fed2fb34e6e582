/**
 * ±N context around one timeline event: how many events before and after it (1–50, default 5)
 * and among which — every event of the tenant, those of the same resource, or those of the same
 * trace. The event page's URL keeps both (`context`, `scope`). Pure: no DOM.
 */
import { withQuery } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';

export type ContextScope = 'all' | 'resource' | 'trace';

export const CONTEXT_SCOPES: readonly { scope: ContextScope; label: string }[] = [
  { scope: 'all', label: 'All events' },
  { scope: 'resource', label: 'Same resource' },
  { scope: 'trace', label: 'Same trace' },
];

export const DEFAULT_CONTEXT = 5;
export const MIN_CONTEXT = 1;
export const MAX_CONTEXT = 50;
export const CONTEXT_CHOICES = [1, 2, 3, 5, 10, 20, 50] as const;

export interface EventContext {
  n: number;
  scope: ContextScope;
}

/** The context an event page's URL asks for; anything out of bounds reads as the nearest bound, anything unreadable as the default. */
export function contextFromQuery(query: Query): EventContext {
  const raw = query['context'];
  let n = DEFAULT_CONTEXT;
  if (raw !== undefined && /^\d{1,6}$/.test(raw)) n = Math.min(MAX_CONTEXT, Math.max(MIN_CONTEXT, Number(raw)));
  const scope = CONTEXT_SCOPES.some((s) => s.scope === query['scope']) ? (query['scope'] as ContextScope) : 'all';
  return { n, scope };
}

/** The event page's query for a context (the defaults left out, so a plain link stays plain). */
export function queryFromContext(context: EventContext): Query {
  const query: Query = {};
  if (context.n !== DEFAULT_CONTEXT) query['context'] = String(context.n);
  if (context.scope !== 'all') query['scope'] = context.scope;
  return query;
}

/** `GET /timeline/:event_id/context?before=N&after=N&scope=…`. */
export function contextPath(eventId: string, context: EventContext): string {
  return withQuery(`/timeline/${encodeURIComponent(eventId)}/context`, { before: context.n, after: context.n, scope: context.scope });
}
