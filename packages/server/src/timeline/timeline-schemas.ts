/** TypeBox schemas of the timeline routes: validation, TypeScript types and OpenAPI in one place. */
import { Type } from 'typebox';
import { BoundedInteger, INT32_MAX, SafeId } from '../http/safe-schema.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const MAX_PAGE_LIMIT = 1000;
export const MAX_INGEST_BATCH = 1000;
/** Most kind patterns one `kind` filter may list. */
export const MAX_KIND_PATTERNS = 8;
/** Longest kind pattern: a kind (128 characters) and `.*`. */
export const MAX_KIND_PATTERN_CHARS = 130;
/** One kind pattern: an exact kind, or a prefix written `audit.*`. */
const KIND_ONE = '[a-z][a-z0-9_-]*(?:\\.[a-z0-9_-]+){0,7}(?:\\.\\*)?';
const KIND_LIST_PATTERN = `^${KIND_ONE}(?:,${KIND_ONE}){0,${MAX_KIND_PATTERNS - 1}}$`;
const TRACE_ID_PATTERN = '^[0-9a-f]{32}$';
/** Times the timeline holds: years 1970 to 9999 (what timestamptz and the event rules accept). */
const STORABLE_YEAR = '^(19[7-9][0-9]|[2-9][0-9]{3})-';

export const TimelineEventOut = Type.Object(
  {
    event_id: Type.String({ format: 'uuid' }),
    ts: Type.String({ format: 'date-time' }),
    tenant_id: Type.String(),
    project_id: Nullable(Type.String()),
    kind: Type.String(),
    actor: Nullable(Type.String()),
    resource_type: Nullable(Type.String()),
    resource_id: Nullable(Type.String()),
    trace_id: Nullable(Type.String()),
    details: Type.Record(Type.String(), Type.Unknown()),
    digest: Type.String({ description: 'sha256 over the canonical JSON of the other TL-1 fields' }),
    ingested_at: Type.String({ format: 'date-time' }),
  },
);

/**
 * The filters of `GET /timeline`, one schema each: the page's query string and a saved
 * filter's `query` (`PUT /timeline/filters/:name`) validate every value the same way.
 */
export const TimelineFilterFields = {
  kind: Type.String({
    pattern: KIND_LIST_PATTERN,
    maxLength: MAX_KIND_PATTERNS * (MAX_KIND_PATTERN_CHARS + 1) - 1,
    description: `an exact kind or a prefix such as \`audit.*\`, or up to ${MAX_KIND_PATTERNS} of them separated by commas (an event matches any): \`job.failed,audit.*\``,
  }),
  resource_type: SafeId({ minLength: 1, maxLength: 64 }),
  resource_id: SafeId({ minLength: 1, maxLength: 512 }),
  project: SafeId({ minLength: 1, maxLength: 128 }),
  actor: SafeId({ minLength: 1, maxLength: 256, description: 'exact actor (who caused the event: a user or service id)' }),
  touches: SafeId({
    minLength: 1,
    maxLength: 256,
    description:
      "events whose trace touched this value: the event names it (its resource_id, or the text anywhere in its details), or another of the tenant's events with the same trace_id does",
  }),
  trace_id: Type.String({ pattern: TRACE_ID_PATTERN }),
};

export const TimelineQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', pattern: STORABLE_YEAR, description: 'inclusive, years 1970-9999; default: `to` minus the tenant retention' })),
    to: Type.Optional(Type.String({ format: 'date-time', pattern: STORABLE_YEAR, description: 'inclusive, years 1970-9999; default: now' })),
    kind: Type.Optional(TimelineFilterFields.kind),
    resource_type: Type.Optional(TimelineFilterFields.resource_type),
    resource_id: Type.Optional(TimelineFilterFields.resource_id),
    project: Type.Optional(TimelineFilterFields.project),
    actor: Type.Optional(TimelineFilterFields.actor),
    touches: Type.Optional(TimelineFilterFields.touches),
    trace_id: Type.Optional(TimelineFilterFields.trace_id),
    // Above MAX_PAGE_LIMIT the route answers `timeline.limit_too_large` with the allowed range.
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: INT32_MAX, description: `page size, 1 to ${MAX_PAGE_LIMIT}; default 100` })),
    cursor: Type.Optional(SafeId({ maxLength: 256, description: '`next_cursor` of the previous page' })),
  },
  { additionalProperties: false },
);

export const TimelinePage = Type.Object({
  events: Type.Array(TimelineEventOut),
  next_cursor: Nullable(Type.String()),
  window: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }),
});

export const EventParams = Type.Object({ event_id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const EventDetail = Type.Object({
  event: TimelineEventOut,
  links: Type.Object({
    trace: Nullable(Type.String({ description: '`/obs/trace/<trace_id>` when the event carries a trace' })),
    evidence: Type.Array(
      Type.Object({ href: Type.String(), bundle_id: Type.String(), kind: Type.String(), case_id: Nullable(Type.String()), root_hash: Type.String() }),
    ),
    attestations: Nullable(Type.String({ description: '`/attestations?subject_id=<resource_id>` when the event names a resource' })),
  }),
});

export const MAX_CONTEXT_EVENTS = 50;

export const ContextQuery = Type.Object(
  {
    before: Type.Optional(BoundedInteger({ minimum: 0, maximum: MAX_CONTEXT_EVENTS, description: `events before it, 0-${MAX_CONTEXT_EVENTS}; default 5` })),
    after: Type.Optional(BoundedInteger({ minimum: 0, maximum: MAX_CONTEXT_EVENTS, description: `events after it, 0-${MAX_CONTEXT_EVENTS}; default 5` })),
    scope: Type.Optional(
      Type.Union([Type.Literal('all'), Type.Literal('resource'), Type.Literal('trace')], {
        description: "all: any of the tenant's events (default); resource: only events of its resource_type and resource_id; trace: only events of its trace_id",
      }),
    ),
  },
  { additionalProperties: false },
);

export const EventContext = Type.Object({
  event: TimelineEventOut,
  before: Type.Array(TimelineEventOut, { description: 'the events just before it in (ts, event_id) order, oldest first' }),
  after: Type.Array(TimelineEventOut, { description: 'the events just after it in (ts, event_id) order, oldest first' }),
});

/** 1-64 letters, digits, space, ".", "_" or "-", not starting or ending with a space. */
export const FILTER_NAME_PATTERN = '^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$';

export const FilterParams = Type.Object(
  { name: Type.String({ pattern: FILTER_NAME_PATTERN, description: '1-64 letters, digits, space, ".", "_" or "-", not starting or ending with a space' }) },
  { additionalProperties: false },
);

/** Longest `window` of a saved filter, in minutes: the longest timeline retention (3650 days). */
export const MAX_FILTER_WINDOW_MINUTES = 3650 * 1440;

/** What a saved filter holds: `GET /timeline`'s filters, each checked by the same rule, and a window. */
export const SavedFilterQuery = Type.Object(
  {
    kind: Type.Optional(TimelineFilterFields.kind),
    resource_type: Type.Optional(TimelineFilterFields.resource_type),
    resource_id: Type.Optional(TimelineFilterFields.resource_id),
    project: Type.Optional(TimelineFilterFields.project),
    actor: Type.Optional(TimelineFilterFields.actor),
    touches: Type.Optional(TimelineFilterFields.touches),
    trace_id: Type.Optional(TimelineFilterFields.trace_id),
    window: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,6}$', description: `minutes back from now, as a decimal string: 1 to ${MAX_FILTER_WINDOW_MINUTES}` })),
  },
  { additionalProperties: false },
);

export const SavedFilterBody = Type.Object({ query: SavedFilterQuery }, { additionalProperties: false });

export const SavedFilterOut = Type.Object({
  name: Type.String(),
  query: Type.Record(Type.String(), Type.String(), { description: 'the parameters as saved' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const SavedFilterList = Type.Object({ filters: Type.Array(SavedFilterOut, { description: "the caller's filters in the tenant, by name" }) });

export const IngestEvent = Type.Object(
  {
    kind: Type.String({ maxLength: 128 }),
    event_id: Type.Optional(Type.String({ format: 'uuid' })),
    ts: Type.Optional(Type.String({ format: 'date-time' })),
    tenant_id: Type.Optional(Type.String({ maxLength: 64 })),
    project_id: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
    actor: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    resource_type: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    resource_id: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
    trace_id: Type.Optional(Nullable(Type.String({ pattern: TRACE_ID_PATTERN }))),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    digest: Type.Optional(Type.String({ pattern: '^sha256:[0-9a-f]{64}$' })),
  },
  { additionalProperties: false },
);

export const IngestBody = Type.Object(
  { events: Type.Array(IngestEvent, { minItems: 1, maxItems: MAX_INGEST_BATCH }) },
  { additionalProperties: false },
);

export const IngestAccepted = Type.Object({
  accepted: Type.Integer({ description: 'events newly accepted by the bus' }),
  duplicates: Type.Integer({ description: 'events whose id the bus had already seen' }),
  events: Type.Array(Type.Object({ event_id: Type.String(), digest: Type.String() })),
});

export const Retention = Type.Object({
  tenant_id: Type.String(),
  retention_days: Type.Integer(),
  source: Type.Union([Type.Literal('tenant'), Type.Literal('default')]),
  allowed: Type.Object({ min_days: Type.Integer(), max_days: Type.Integer() }, { description: 'what a tenant may set (floor and ceiling of the retention policy)' }),
  audit_min_days: Type.Integer({ description: '`audit.*` events are kept at least this long, whatever retention_days says' }),
});

// Wider than the policy on purpose: a value outside the policy's floor and ceiling is refused by
// the handler with 400 retention.out_of_bounds naming the bound, not as a schema violation.
export const RetentionUpdate = Type.Object({ retention_days: Type.Integer({ minimum: 0, maximum: 36500 }) }, { additionalProperties: false });
