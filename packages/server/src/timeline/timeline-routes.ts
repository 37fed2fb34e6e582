/** TL-4 read API (pages, one event, an event's context), saved filters, service ingest (`POST /timeline/events`) and retention settings. */
import { TimelineError, type TimelineEmitter, type TimelineEvent } from '@stellaops/telemetry-core';
import { answeredAs, ServiceError } from '../errors.js';
import { described } from '../http/openapi.js';
import type { ServiceApp } from '../service-feature.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { TimelineRepository } from './timeline-repository.js';
import type { AuditTrail } from './audit-trail.js';
import type { SavedFilters } from './saved-filters.js';
import {
  ContextQuery,
  EventContext,
  EventDetail,
  EventParams,
  FilterParams,
  IngestAccepted,
  IngestBody,
  MAX_FILTER_WINDOW_MINUTES,
  MAX_KIND_PATTERN_CHARS,
  MAX_PAGE_LIMIT,
  Retention,
  RetentionUpdate,
  SavedFilterBody,
  SavedFilterList,
  SavedFilterOut,
  TimelinePage,
  TimelineQuery,
} from './timeline-schemas.js';
import { AUDIT_FLOOR_DAYS, checkTimelineDays, RETENTION_BOUNDS } from '../retention/policy.js';

const ALLOWED = { min_days: RETENTION_BOUNDS.timeline.min, max_days: RETENTION_BOUNDS.timeline.max };

const DAY_MS = 86_400_000;

export interface TimelineRouteDeps {
  repository: TimelineRepository;
  savedFilters: SavedFilters;
  emitter: TimelineEmitter;
  audit: AuditTrail;
  clock: () => number;
}

/** Timeline errors from building an event become 4xx with the request field at fault (the catalogue says how each is answered). */
function toServiceError(error: unknown, index: number): unknown {
  if (!(error instanceof TimelineError)) return error;
  const field = `body.events[${index}]${error.field ? `.${error.field}` : ''}`;
  return new ServiceError(answeredAs(error.code), `${field}: ${error.message}`, { field, cause: error });
}

/** Each pattern of a kind list at most MAX_KIND_PATTERN_CHARS long (the schema bounds the list as a whole). */
function checkKindPatterns(kind: string | undefined, field: string): void {
  if (kind !== undefined && kind.split(',').some((p) => p.length > MAX_KIND_PATTERN_CHARS)) {
    throw new ServiceError('request.invalid', `${field} must list kind patterns of at most ${MAX_KIND_PATTERN_CHARS} characters each`, { field });
  }
}

function busError(error: TimelineError): ServiceError {
  return new ServiceError('bus.unavailable', `the bus did not accept the events: ${error.message}`, { cause: error });
}

export function timelineRoutes(app: ServiceApp, deps: TimelineRouteDeps): void {
  const { repository, savedFilters, emitter, audit, clock } = deps;

  app.get(
    '/timeline',
    {
      schema: {
        operationId: 'listTimelineEvents',
        summary: "Page through the tenant's timeline, newest first",
        tags: ['timeline'],
        querystring: TimelineQuery,
        response: { 200: described('One page of events, newest first; next_cursor reads the next', TimelinePage) },
        'x-error-codes': ['timeline.limit_too_large', 'timeline.window_too_wide', 'timeline.cursor_invalid'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const q = request.query;
      const limit = q.limit ?? 100;
      if (limit > MAX_PAGE_LIMIT) {
        throw new ServiceError('timeline.limit_too_large', `limit may be 1 to ${MAX_PAGE_LIMIT}; use next_cursor to read further`, {
          field: 'query.limit',
          extra: { allowed: { min: 1, max: MAX_PAGE_LIMIT } },
        });
      }
      const { days } = await repository.retentionDays(tenant);
      const to = q.to ? new Date(q.to) : new Date(clock());
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - days * DAY_MS);
      if (from.getTime() > to.getTime()) {
        throw new ServiceError('request.invalid', 'from must not be later than to', { field: 'query.from' });
      }
      if (to.getTime() - from.getTime() > days * DAY_MS) {
        const earliest = new Date(to.getTime() - days * DAY_MS).toISOString();
        throw new ServiceError(
          'timeline.window_too_wide',
          `the window may span at most ${days} days (the tenant's retention): with to=${to.toISOString()}, from must be ${earliest} or later`,
          { field: 'query.from', extra: { allowed: { max_days: days, earliest_from: earliest } } },
        );
      }
      checkKindPatterns(q.kind, 'query.kind');
      const page = await repository.page(tenant, {
        from,
        to,
        kind: q.kind,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        project_id: q.project,
        actor: q.actor,
        touches: q.touches,
        trace_id: q.trace_id,
        limit,
        cursor: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
      });
      return {
        events: page.events,
        next_cursor: page.next ? encodeCursor(page.next) : null,
        window: { from: from.toISOString(), to: to.toISOString() },
      };
    },
  );

  app.get(
    '/timeline/:event_id',
    {
      schema: {
        operationId: 'getTimelineEvent',
        summary: 'One event, with links to its trace and related evidence',
        tags: ['timeline'],
        params: EventParams,
        response: { 200: described('The event with links to its trace, evidence bundles and attestations', EventDetail) },
        'x-error-codes': ['timeline.not_found'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const found = await repository.get(tenant, request.params.event_id.toLowerCase());
      if (!found) throw new ServiceError('timeline.not_found', `no event ${request.params.event_id} in this tenant's timeline`, { field: 'params.event_id' });
      const { event, evidence } = found;
      return {
        event,
        links: {
          trace: event.trace_id ? `/obs/trace/${event.trace_id}` : null,
          evidence: evidence.map((e) => ({ href: `/evidence/${encodeURIComponent(e.bundle_id)}`, ...e })),
          attestations: event.resource_id ? `/attestations?subject_id=${encodeURIComponent(event.resource_id)}` : null,
        },
      };
    },
  );

  app.get(
    '/timeline/:event_id/context',
    {
      schema: {
        operationId: 'getTimelineEventContext',
        summary: "The events just before and after one event: all of the tenant's, or those of its resource or its trace",
        tags: ['timeline'],
        params: EventParams,
        querystring: ContextQuery,
        response: { 200: described('The event with its neighbours in (ts, event_id) order, each list oldest first', EventContext) },
        'x-error-codes': ['timeline.not_found'],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      const q = request.query;
      const found = await repository.context(tenant, request.params.event_id.toLowerCase(), { before: q.before ?? 5, after: q.after ?? 5, scope: q.scope ?? 'all' });
      if (!found) throw new ServiceError('timeline.not_found', `no event ${request.params.event_id} in this tenant's timeline`, { field: 'params.event_id' });
      return found;
    },
  );

  // Saved filters: a static path, so the router serves /timeline/filters here, never as an event id.
  app.get(
    '/timeline/filters',
    {
      schema: {
        operationId: 'listTimelineFilters',
        summary: "The caller's saved timeline filters in the tenant, by name",
        tags: ['timeline'],
        response: { 200: described("The caller's saved filters (each user has their own)", SavedFilterList) },
      },
    },
    async (request) => {
      const auth = request.auth!;
      return { filters: await savedFilters.list(auth.tenant, auth.principal.subject) };
    },
  );

  app.put(
    '/timeline/filters/:name',
    {
      schema: {
        operationId: 'saveTimelineFilter',
        summary: 'Save a timeline filter under a name (replacing the caller\'s filter of that name)',
        tags: ['timeline'],
        params: FilterParams,
        body: SavedFilterBody,
        response: {
          200: described('The filter of that name was replaced', SavedFilterOut),
          201: described('The filter is saved under a new name', SavedFilterOut),
        },
        'x-error-codes': ['timeline.filter_limit'],
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      const query = request.body.query;
      checkKindPatterns(query.kind, 'body.query.kind');
      if (query.window !== undefined && Number(query.window) > MAX_FILTER_WINDOW_MINUTES) {
        throw new ServiceError('request.invalid', `body.query.window must be 1 to ${MAX_FILTER_WINDOW_MINUTES} minutes (the longest timeline retention)`, { field: 'body.query.window' });
      }
      const { filter, created } = await savedFilters.put(auth.tenant, auth.principal.subject, request.params.name, { ...query }, new Date(clock()));
      reply.code(created ? 201 : 200);
      return filter;
    },
  );

  app.delete(
    '/timeline/filters/:name',
    {
      schema: {
        operationId: 'deleteTimelineFilter',
        summary: "Delete one of the caller's saved timeline filters",
        tags: ['timeline'],
        params: FilterParams,
        response: { 204: { description: 'The filter is deleted', type: 'null' } },
        'x-error-codes': ['timeline.filter_not_found'],
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      if (!(await savedFilters.delete(auth.tenant, auth.principal.subject, request.params.name))) {
        throw new ServiceError('timeline.filter_not_found', `you have no saved filter named "${request.params.name}" in this tenant`, { field: 'params.name' });
      }
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/timeline/events',
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        operationId: 'appendTimelineEvents',
        summary: 'Append events for producers without bus access (tenant, event_id, ts and digest filled when absent)',
        tags: ['timeline'],
        body: IngestBody,
        response: { 202: described('Every event was published (or was a duplicate); their ids and digests', IngestAccepted) },
        'x-error-codes': [
          'timeline.tenant_mismatch',
          'timeline.tenant_invalid',
          'timeline.kind_invalid',
          'timeline.event_invalid',
          'timeline.details_too_large',
          'timeline.digest_mismatch',
          'bus.unavailable',
        ],
      },
    },
    async (request, reply) => {
      const tenant = request.auth!.tenant;
      // Validate every event before publishing any, so a bad batch leaves nothing behind.
      const built: TimelineEvent[] = request.body.events.map((input, i) => {
        if (input.tenant_id !== undefined && input.tenant_id !== tenant) {
          throw new ServiceError('timeline.tenant_mismatch', `body.events[${i}].tenant_id names another tenant than the request's ("${tenant}")`, {
            field: `body.events[${i}].tenant_id`,
            extra: { tenant },
          });
        }
        try {
          return emitter.build({ ...input, tenant_id: tenant });
        } catch (error) {
          throw toServiceError(error, i);
        }
      });
      const results = await Promise.all(built.map((event) => emitter.publish(event)));
      let duplicates = 0;
      for (const r of results) {
        if (!r.ok) throw busError(r.error);
        if (r.duplicate) duplicates++;
      }
      reply.code(202);
      return { accepted: built.length - duplicates, duplicates, events: built.map((e) => ({ event_id: e.event_id, digest: e.digest })) };
    },
  );

  app.get(
    '/timeline/retention',
    { schema: { operationId: 'getTimelineRetention', summary: "The tenant's timeline retention", tags: ['timeline'], response: { 200: described("The tenant's timeline retention and the bounds it may be set within", Retention) } } },
    async (request) => {
      const tenant = request.auth!.tenant;
      const { days, source } = await repository.retentionDays(tenant);
      return { tenant_id: tenant, retention_days: days, source, allowed: ALLOWED, audit_min_days: AUDIT_FLOOR_DAYS };
    },
  );

  app.put(
    '/timeline/retention',
    {
      schema: {
        operationId: 'setTimelineRetention',
        summary: `Change the tenant's timeline retention (${RETENTION_BOUNDS.timeline.min}-${RETENTION_BOUNDS.timeline.max} days; audited)`,
        tags: ['timeline'],
        body: RetentionUpdate,
        response: { 200: described("The tenant's timeline retention as changed", Retention) },
        'x-error-codes': ['retention.out_of_bounds'],
      },
    },
    async (request) => {
      const auth = request.auth!;
      const days = request.body.retention_days;
      // 400 retention.out_of_bounds naming the floor or ceiling; nothing is changed or audited.
      checkTimelineDays(days);
      await audit.record(auth.tenant, async (tx, record) => {
        const previous = await repository.setRetention(tx, auth.tenant, days, auth.principal.subject);
        await record({
          kind: 'audit.timeline.retention_changed',
          resource_type: 'tenant_settings',
          resource_id: auth.tenant,
          details: { previous_days: previous, retention_days: days, granted_by: auth.grantedBy },
        });
      });
      return { tenant_id: auth.tenant, retention_days: days, source: 'tenant' as const, allowed: ALLOWED, audit_min_days: AUDIT_FLOOR_DAYS };
    },
  );
}
