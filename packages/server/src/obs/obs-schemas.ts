/** TypeBox schemas of the OBS-1 and OBS-2 read APIs: validation, response shape and the OpenAPI entry. */
import { Type } from 'typebox';
import { BoundedInteger, INT32_MAX, SafeId, SafeString } from '../http/safe-schema.js';

const Attrs = Type.Record(Type.String(), Type.Unknown());
const WindowOut = Type.Object({ from: Type.String(), to: Type.String() });
/** Instead of `from`: a duration back from `to` (time-window.ts parses it). */
const Since = Type.Optional(SafeId({ maxLength: 20, description: 'instead of from: a duration back from to, e.g. 15m, 2h, 1d or PT15M' }));

export const TraceParams = Type.Object({ trace_id: SafeId({ minLength: 1, maxLength: 64 }) });

export const TraceSpanSchema = Type.Object({
  span_id: Type.String(),
  parent_span_id: Type.Union([Type.String(), Type.Null()]),
  depth: Type.Integer(),
  children: Type.Array(Type.String()),
  name: Type.String(),
  kind: Type.String(),
  service: Type.String(),
  start_time: Type.String(),
  start_time_unix_nano: Type.String(),
  end_time_unix_nano: Type.String(),
  duration_ms: Type.Number(),
  status: Type.Object({ code: Type.String(), message: Type.String() }),
  attributes: Attrs,
  resource: Attrs,
  scope: Type.Object({ name: Type.String(), version: Type.String() }),
  events: Type.Array(Type.Object({ name: Type.String(), time_unix_nano: Type.String(), attributes: Attrs })),
  links: Type.Array(Type.Object({ trace_id: Type.String(), span_id: Type.String(), attributes: Attrs })),
});

export const TraceResponse = Type.Object({
  trace_id: Type.String(),
  span_count: Type.Integer(),
  services: Type.Array(Type.String()),
  root_span_ids: Type.Array(Type.String()),
  start_time: Type.String(),
  duration_ms: Type.Number(),
  truncated: Type.Boolean(),
  deep_link: Type.Union([Type.String(), Type.Null()]),
  spans: Type.Array(TraceSpanSchema),
});

export const LogsQuery = Type.Object(
  {
    from: Type.Optional(SafeId({ maxLength: 40 })),
    to: Type.Optional(SafeId({ maxLength: 40 })),
    since: Since,
    trace_id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
    severity: Type.Optional(SafeId({ maxLength: 16, description: 'lowest severity: TRACE, DEBUG, INFO, WARN, ERROR, FATAL or 1-24' })),
    service: Type.Optional(SafeId({ maxLength: 200 })),
    q: Type.Optional(SafeString({ maxLength: 200, description: 'substring of the log body (case-insensitive)' })),
    // Above STELLA_OBS_MAX_RESULTS the route answers `obs.limit_too_large` with the allowed range.
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: INT32_MAX, description: 'rows, at most STELLA_OBS_MAX_RESULTS (1000); default 100' })),
  },
  { additionalProperties: false },
);

export const LogsResponse = Type.Object({
  window: WindowOut,
  limits: Type.Object({ max_window_hours: Type.Integer(), max_results: Type.Integer() }),
  truncated: Type.Boolean(),
  logs: Type.Array(
    Type.Object({
      time: Type.String(),
      severity_number: Type.Integer(),
      severity_text: Type.Union([Type.String(), Type.Null()]),
      service: Type.String(),
      trace_id: Type.Union([Type.String(), Type.Null()]),
      span_id: Type.Union([Type.String(), Type.Null()]),
      body: Type.String(),
      attributes: Attrs,
    }),
  ),
});

export const TracesQuery = Type.Object(
  {
    from: Type.Optional(SafeId({ maxLength: 40 })),
    to: Type.Optional(SafeId({ maxLength: 40 })),
    since: Since,
    service: Type.Optional(SafeId({ maxLength: 256, description: 'a service the trace passed through (service.name of any of its request, root or first spans)' })),
    route: Type.Optional(SafeId({ maxLength: 512, description: 'http.route of a request span of the trace, or the name of a span that has none (root, job): as /obs/routes names routes' })),
    status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('error')], { description: 'error: a request, job or root span of the trace ended with status ERROR; ok: none did' })),
    min_duration_ms: Type.Optional(BoundedInteger({ minimum: 1, maximum: INT32_MAX, description: 'shortest trace duration in whole milliseconds (first span start to last span end)' })),
    attribute: Type.Optional(SafeString({ maxLength: 600, description: 'key=value: a span of the trace (or its resource) has the attribute with this value, compared as text' })),
    // Above the cap the route answers `obs.limit_too_large` with the allowed range.
    limit: Type.Optional(BoundedInteger({ minimum: 1, maximum: INT32_MAX, description: 'traces, at most 200 (or STELLA_OBS_MAX_RESULTS when lower); default 20' })),
  },
  { additionalProperties: false },
);

export const TraceSummarySchema = Type.Object({
  trace_id: Type.String(),
  tenant: Type.String(),
  root_span_name: Type.String({ description: 'the root span, or the earliest span whose parent was not received' }),
  root_span_received: Type.Boolean({ description: 'false when the root span (the one without a parent) is not stored, e.g. a caller that does not export' }),
  service: Type.String({ description: "the root span's service" }),
  route: Type.Union([Type.String(), Type.Null()], { description: "the root span's http.route, if it has one" }),
  services: Type.Array(Type.String()),
  start_time: Type.String(),
  duration_ms: Type.Number({ description: 'first span start to last span end' }),
  span_count: Type.Integer(),
  error: Type.Boolean({ description: 'a request, job or root span ended with status ERROR (what /obs/routes counts as an error)' }),
  error_span_count: Type.Integer({ description: 'spans of any kind with status ERROR' }),
  trace: Type.String({ description: '`/obs/trace/<trace_id>`: the span tree' }),
});

export const TracesResponse = Type.Object({
  window: WindowOut,
  limits: Type.Object({ max_window_hours: Type.Integer(), max_results: Type.Integer(), max_records_read: Type.Integer() }),
  truncated: Type.Boolean({ description: 'more traces match than were returned: narrow the window or add filters' }),
  scan: Type.Object(
    {
      complete: Type.Boolean({ description: 'false when the read budget ran out before every candidate trace was checked (attribute or min_duration_ms filter): more traces may match' }),
      candidates: Type.Integer({ description: 'traces the index found for service, route, status and (to about a millisecond) min_duration_ms: at most limit + 1, or 2000 with attribute or min_duration_ms' }),
      examined: Type.Integer({ description: 'of those, traces whose stored spans were read' }),
      records_read: Type.Integer(),
    },
  ),
  traces: Type.Array(TraceSummarySchema),
});

export const WindowQuery = Type.Object(
  {
    from: Type.Optional(SafeId({ maxLength: 40 })),
    to: Type.Optional(SafeId({ maxLength: 40 })),
    since: Since,
    service: Type.Optional(SafeId({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const RouteStatsResponse = Type.Object({
  window: WindowOut,
  series: Type.Array(
    Type.Object({
      service: Type.String(),
      route: Type.String(),
      requests: Type.Integer(),
      request_rate_per_s: Type.Number(),
      errors: Type.Integer(),
      error_ratio: Type.Number(),
      p95_ms: Type.Number(),
    }),
  ),
});

export const HealthResponse = Type.Object({
  window: WindowOut,
  thresholds: Type.Object({ error_ratio_degraded: Type.Number(), p95_ms_degraded: Type.Number() }),
  services: Type.Array(
    Type.Object({
      service: Type.String(),
      status: Type.Union([Type.Literal('up'), Type.Literal('degraded'), Type.Literal('down')]),
      last_seen: Type.String(),
      requests: Type.Integer(),
      error_ratio: Type.Number(),
      p95_ms: Type.Number(),
    }),
  ),
});

export const MetricsQueryString = Type.Object(
  {
    // Required; checked by the route, which names the rule (obs.metric_name_invalid).
    name: Type.Optional(SafeId({ maxLength: 200, description: 'required: the metric name as Prometheus spells it, a family (http_server_request_duration_seconds) or a sample name (..._count, ..._total)' })),
    match: Type.Optional(SafeString({ maxLength: 2000, description: 'label matchers, e.g. {job="api",http_response_status_code=~"5.."}' })),
    from: Type.Optional(SafeId({ maxLength: 40 })),
    to: Type.Optional(SafeId({ maxLength: 40 })),
    since: Since,
    step: Type.Optional(SafeId({ maxLength: 20, description: 'seconds between points: 30, 15s, 1m, 1h; a counter\'s rate is taken over one step. Default: the window / 300, at least 60 s' })),
    quantile: Type.Optional(SafeId({ maxLength: 20, description: 'for histograms: the quantile (0 to 1) of each point instead of the observation rate' })),
  },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

export const MetricSeriesResponse = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal('counter'), Type.Literal('gauge'), Type.Literal('histogram'), Type.Null()], { description: 'null when no series of this name exists in the window' }),
  source: Type.Union([Type.Literal('embedded'), Type.Literal('prometheus')]),
  value: Type.Union([Type.Literal('rate_per_second'), Type.Literal('value'), Type.Literal('quantile'), Type.Literal('observations_per_second')], {
    description: 'what each point is: a counter\'s rate per second over one step, a gauge\'s value, a histogram quantile, or a histogram\'s observations per second',
  }),
  quantile: Nullable(Type.Number()),
  window: WindowOut,
  step_seconds: Type.Number(),
  limits: Type.Object({ max_window_hours: Type.Integer(), max_series: Type.Integer(), max_points: Type.Integer() }),
  series: Type.Array(
    Type.Object({
      labels: Type.Record(Type.String(), Type.String()),
      points: Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), { description: '[unix seconds, value], ascending; steps without a value are left out' }),
    }),
  ),
});

/** Most tenants `GET /obs/tenants` answers. */
export const MAX_NOISY_TENANTS = 20;

export const TenantsQuery = Type.Object(
  {
    window: Type.Optional(BoundedInteger({ minimum: 1, maximum: 1440, description: 'minutes back from now, 1-1440; default 60' })),
  },
  { additionalProperties: false },
);

export const TenantsResponse = Type.Object({
  window: WindowOut,
  tenants: Type.Array(
    Type.Object({
      tenant: Type.String(),
      spans: Type.Integer({ description: 'indexed spans starting in the window: root, request and job spans, and the first span of each other service of a trace' }),
      logs: Type.Integer({ description: 'log records with a time in the window' }),
      metric_points: Type.Integer({ description: 'metric samples with a time in the window' }),
      error_spans: Type.Integer({ description: 'of spans, those that ended with status ERROR' }),
      total: Type.Integer({ description: 'spans + logs + metric_points' }),
    }),
    { description: `at most ${MAX_NOISY_TENANTS}, by total (most first), then tenant id; tenants with nothing in the window are left out` },
  ),
});
