/**
 * The one mapping from a `timeline_events` row to a `TimelineEvent`, shared by every feature
 * that reads the timeline (the timeline API, evidence snapshots, chain of custody), so the
 * engines' differences (PGlite and pg return timestamps and jsonb differently) are handled once.
 */
import type { TimelineEvent } from '@stellaops/telemetry-core';

/** Columns to select for `timelineEventFromRow`. */
export const TIMELINE_EVENT_COLUMNS = 'event_id, ts, tenant_id, project_id, kind, actor, resource_type, resource_id, trace_id, details, digest';

export function isoTimestamp(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

export function timelineEventFromRow(r: Record<string, unknown>): TimelineEvent {
  return {
    event_id: String(r['event_id']),
    ts: isoTimestamp(r['ts']),
    tenant_id: String(r['tenant_id']),
    project_id: (r['project_id'] as string | null) ?? null,
    kind: String(r['kind']),
    actor: (r['actor'] as string | null) ?? null,
    resource_type: (r['resource_type'] as string | null) ?? null,
    resource_id: (r['resource_id'] as string | null) ?? null,
    trace_id: (r['trace_id'] as string | null) ?? null,
    details: (typeof r['details'] === 'string' ? JSON.parse(r['details']) : r['details']) as Record<string, unknown>,
    digest: String(r['digest']),
  };
}
