/** The answers of `/obs/traces`, `/obs/tenants` and the timeline that the trace views and the hub read (their schemas are in /openapi.json). */
import type { TimeWindow } from '../api/api-types.js';

export interface TraceSummary {
  trace_id: string;
  tenant: string;
  /** The root span, or the earliest span whose parent was not received. */
  root_span_name: string;
  root_span_received: boolean;
  service: string;
  route: string | null;
  services: string[];
  start_time: string;
  duration_ms: number;
  span_count: number;
  /** A request, job or root span ended with status ERROR (what /obs/routes counts as an error). */
  error: boolean;
  /** Spans of any kind with status ERROR. */
  error_span_count: number;
  trace: string;
}

export interface TracesAnswer {
  window: TimeWindow;
  limits: { max_window_hours: number; max_results: number; max_records_read: number };
  /** More traces match than were returned. */
  truncated: boolean;
  /** `complete: false`: the read budget ran out before every candidate was checked (attribute or duration filter). */
  scan: { complete: boolean; candidates: number; examined: number; records_read: number };
  traces: TraceSummary[];
}

export type { EventDetailAnswer as TimelineEventAnswer, TimelineEvent, TimelinePageAnswer } from '../api/api-types.js';

export interface TenantVolume {
  tenant: string;
  spans: number;
  logs: number;
  metric_points: number;
  error_spans: number;
  total: number;
}

export interface TenantsAnswer {
  window: TimeWindow;
  tenants: TenantVolume[];
}
