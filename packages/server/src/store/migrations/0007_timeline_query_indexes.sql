-- One index in page order (ts DESC, event_id DESC) behind every filter of GET /timeline that
-- can drive a page, so that a page reads about `limit` index entries whatever the filters
-- select. TimelineRepository.page() chooses the driving filter (the embedded engine is never
-- analysed, so its planner cannot); docs/timeline.md, Benchmark, has the measurements.
--
-- Kinds, alone and within a project. Kinds are indexed in byte order (COLLATE "C") so that a
-- prefix `audit.*` is the range ['audit.', 'audit/') whatever the database's collation.
CREATE INDEX timeline_events_tenant_kind_ts ON timeline_events (tenant_id, kind COLLATE "C", ts DESC, event_id DESC);
CREATE INDEX timeline_events_tenant_project_kind_ts ON timeline_events (tenant_id, project_id, kind COLLATE "C", ts DESC, event_id DESC)
  WHERE project_id IS NOT NULL;
-- Resources by id, with or without their type: replaces (tenant_id, resource_type, resource_id,
-- ts DESC), which a page by resource_id alone could not use. The type comes last, so it is
-- checked in the index and a query naming both the type and the id prefers this index.
DROP INDEX timeline_events_tenant_resource;
CREATE INDEX timeline_events_tenant_resource_ts ON timeline_events (tenant_id, resource_id, ts DESC, event_id DESC, resource_type)
  WHERE resource_id IS NOT NULL;
-- Resources by type alone.
CREATE INDEX timeline_events_tenant_resource_type_ts ON timeline_events (tenant_id, resource_type, ts DESC, event_id DESC)
  WHERE resource_type IS NOT NULL;
-- Traces in page order: replaces (tenant_id, trace_id), which sorted the whole trace for a page.
DROP INDEX timeline_events_tenant_trace;
CREATE INDEX timeline_events_tenant_trace_ts ON timeline_events (tenant_id, trace_id, ts DESC, event_id DESC)
  WHERE trace_id IS NOT NULL;
