/** The answers of the service's API the Console reads (their schemas are in /openapi.json). */

export interface ErrorAnswer {
  error_code?: string;
  message?: string;
  field?: string;
  required_scope?: string;
  tenant?: string;
  allowed?: unknown;
}

export interface WhoAmI {
  subject: string;
  expires_at: string;
  scopes: string[];
  tenants: string[];
  platform_scopes: string[];
}

export interface TimeWindow {
  from: string;
  to: string;
}

export type HealthStatus = 'up' | 'degraded' | 'down';

export interface ServiceHealth {
  service: string;
  status: HealthStatus;
  last_seen: string;
  requests: number;
  error_ratio: number;
  p95_ms: number;
}

export interface HealthAnswer {
  window: TimeWindow;
  thresholds: { error_ratio_degraded: number; p95_ms_degraded: number };
  services: ServiceHealth[];
}

export interface RouteStats {
  service: string;
  route: string;
  requests: number;
  request_rate_per_s: number;
  errors: number;
  error_ratio: number;
  p95_ms: number;
}

export interface RoutesAnswer {
  window: TimeWindow;
  series: RouteStats[];
}

export interface BurnRatePair {
  severity: 'page' | 'ticket';
  long_window: string;
  short_window: string;
  burn_rate_threshold: number;
  error_ratio_threshold: number;
  long_burn_rate: number | null;
  short_burn_rate: number | null;
  firing: boolean;
}

export type SloState = 'ok' | 'ticket' | 'page' | 'no_data';

export interface SloStatus {
  name: string;
  display_name: string | null;
  description: string | null;
  service: string;
  objective: { target: number; display_name: string | null };
  period: string;
  sli: { value: number | null };
  error_budget: { total: number; consumed: number | null; remaining: number | null };
  burn_rates: BurnRatePair[];
  state: SloState;
}

export interface SloBreach {
  breach_id: string;
  slo: string;
  service: string;
  severity: string;
  long_window: string;
  short_window: string;
  burn_rate: number;
  started_at: string;
  resolved_at: string | null;
}

export interface SloAnswer {
  tenant: string;
  source: 'embedded' | 'prometheus';
  evaluated_at: string;
  interval_seconds: number;
  slos: SloStatus[];
  breaches: SloBreach[];
}

export type Attributes = Record<string, unknown>;

export interface TraceSpan {
  span_id: string;
  parent_span_id: string | null;
  depth: number;
  children: string[];
  name: string;
  kind: string;
  service: string;
  start_time: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ms: number;
  status: { code: string; message: string };
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string };
  events: { name: string; time_unix_nano: string; attributes: Attributes }[];
  links: { trace_id: string; span_id: string; attributes: Attributes }[];
}

export interface TraceAnswer {
  trace_id: string;
  span_count: number;
  services: string[];
  root_span_ids: string[];
  start_time: string;
  duration_ms: number;
  truncated: boolean;
  deep_link: string | null;
  spans: TraceSpan[];
}

export interface LogRecord {
  time: string;
  severity_number: number;
  severity_text: string | null;
  service: string;
  trace_id: string | null;
  span_id: string | null;
  body: string;
  attributes: Attributes;
}

export interface LogsAnswer {
  window: TimeWindow;
  limits: { max_window_hours: number; max_results: number };
  truncated: boolean;
  logs: LogRecord[];
}

/** One timeline event (TL-1), as `GET /timeline` and `GET /timeline/:event_id` give it. */
export interface TimelineEvent {
  event_id: string;
  ts: string;
  tenant_id: string;
  project_id: string | null;
  kind: string;
  actor: string | null;
  resource_type: string | null;
  resource_id: string | null;
  trace_id: string | null;
  details: Record<string, unknown>;
  digest: string;
  ingested_at?: string;
}

/** `GET /timeline`: one page, newest first. */
export interface TimelinePageAnswer {
  events: TimelineEvent[];
  next_cursor: string | null;
  window: { from: string; to: string };
}

/** `GET /timeline/:event_id`: the event and where it leads. */
export interface EventDetailAnswer {
  event: TimelineEvent;
  links: {
    /** The API path `/obs/trace/<trace_id>`, or null without a trace. */
    trace: string | null;
    evidence: { href: string; bundle_id: string; kind: string; case_id: string | null; root_hash: string }[];
    /** The API path `/attestations?subject_id=<resource_id>`, or null without a resource. */
    attestations: string | null;
  };
}
