/** TypeBox schemas of the OBS-1 read APIs: validation, response shape and the OpenAPI entry. */
import { Type } from 'typebox';
import { BoundedInteger, INT32_MAX, SafeId, SafeString } from '../http/safe-schema.js';

const Attrs = Type.Record(Type.String(), Type.Unknown());
const WindowOut = Type.Object({ from: Type.String(), to: Type.String() });

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

export const WindowQuery = Type.Object(
  {
    from: Type.Optional(SafeId({ maxLength: 40 })),
    to: Type.Optional(SafeId({ maxLength: 40 })),
    service: Type.Optional(SafeId({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const MetricsResponse = Type.Object({
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
