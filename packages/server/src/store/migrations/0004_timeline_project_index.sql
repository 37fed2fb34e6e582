-- Pages filtered by project (the Console's usual view) read the project's events in time
-- order instead of scanning the whole tenant (docs/timeline.md, Benchmark).
CREATE INDEX timeline_events_tenant_project ON timeline_events (tenant_id, project_id, ts DESC, event_id DESC) WHERE project_id IS NOT NULL;
